package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/wwly/wwly/loadgen"
)

// wwlyBin is the wwly binary TestMain builds once for the tests that run real processes
// (bench re-executes its own binary as workers, so the test binary cannot stand in for it).
var (
	wwlyBin      string
	wwlyBuildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wwly-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wwlyBin = filepath.Join(dir, "wwly")
	if out, err := exec.Command("go", "build", "-o", wwlyBin, ".").CombinedOutput(); err != nil {
		wwlyBuildErr = fmt.Errorf("go build: %w\n%s", err, out)
	}
	// The lean worker beside it, as make build puts it: bench runs it for wwly, flock and the
	// yardsticks, and falls back to `wwly worker` for the rest.
	lean := filepath.Join(dir, loadgen.LeanWorkerName)
	if out, err := exec.Command("go", "build", "-tags", "wwlylean", "-o", lean, "../wwly-worker").CombinedOutput(); err != nil {
		wwlyBuildErr = fmt.Errorf("go build wwly-worker: %w\n%s", err, out)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if wwlyBuildErr != nil {
		t.Fatal(wwlyBuildErr)
	}
}

func TestBenchScenarioFromFlags(t *testing.T) {
	quick := filepath.Join("..", "..", "bench", "scenarios", "quick.yaml")
	tests := []struct {
		name    string
		argv    []string
		check   func(t *testing.T, s loadgen.Scenario)
		wantErr bool
	}{
		{name: "file as is", argv: []string{"--scenario", quick}, check: func(t *testing.T, s loadgen.Scenario) {
			if s.Name != "quick" || !reflect.DeepEqual(s.Workers, []int{1, 8, 64}) || len(s.Backends) != 8 {
				t.Fatalf("quick: %+v", s)
			}
		}},
		{name: "overrides", argv: []string{"--scenario", quick, "--backends", "flock,none", "--workers", "2,3",
			"--locks", "1,64", "--hold", "10us", "--duration", "1s", "--warmup", "0s", "--rate", "500", "--repeat", "2",
			"--seed", "7", "--server-args", "--flush-batch=64 --loops=1"},
			check: func(t *testing.T, s loadgen.Scenario) {
				want := loadgen.Scenario{Name: "quick", Backends: []string{"flock", "none"}, Workers: []int{2, 3},
					Locks: []int{1, 64}, Hold: loadgen.Duration(10 * time.Microsecond), Duration: loadgen.Duration(time.Second),
					Rate: 500, Repeat: 2, Seed: 7, ServerArgs: []string{"--flush-batch=64", "--loops=1"}}
				if !reflect.DeepEqual(s, want) {
					t.Fatalf("got  %+v\nwant %+v", s, want)
				}
			}},
		{name: "defaults without a file", argv: nil, check: func(t *testing.T, s loadgen.Scenario) {
			if s.Name != "default" || s.Repeat != 1 {
				t.Fatalf("default: %+v", s)
			}
		}},
		{name: "ops-sized window", argv: []string{"--scenario", quick, "--ops-per-worker", "50", "--max-duration", "30s",
			"--min-ops", "10"}, check: func(t *testing.T, s loadgen.Scenario) {
			if s.Duration != 0 || s.OpsPerWorker != 50 || s.MaxDuration != loadgen.Duration(30*time.Second) || s.MinOpsPerWorker != 10 {
				t.Fatalf("ops window: %+v", s)
			}
		}},
		{name: "ops window without a cap", argv: []string{"--ops-per-worker", "50"}, wantErr: true},
		{name: "bad workers", argv: []string{"--workers", "0"}, wantErr: true},
		{name: "missing file", argv: []string{"--scenario", "nope.yaml"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := benchOptionsOf(t, tt.argv)
			s, err := o.scenarioFrom()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil {
				tt.check(t, s)
			}
		})
	}
}

func benchOptionsOf(t *testing.T, argv []string) *benchOptions {
	t.Helper()
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	o := &benchOptions{}
	bindBenchFlags(fs, o)
	if err := fs.Parse(argv); err != nil {
		t.Fatal(err)
	}
	o.changed = fs.Changed
	return o
}

// runBench runs the built binary's bench and returns its exit code, output and run.json.
func runBench(t *testing.T, args ...string) (int, string, *loadgen.Run) {
	t.Helper()
	needBinary(t)
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(wwlyBin, append([]string{"bench", "--out", out}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "CI=true")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run bench: %v", err)
	}
	run, rerr := loadgen.ReadRun(filepath.Join(out, "run.json"))
	if rerr != nil {
		t.Fatalf("exit %d, no run.json (%v); output:\n%s", code, rerr, buf.String())
	}
	return code, buf.String(), run
}

// A few seconds of the quick scenario with real worker processes: flock is clean, the none
// control is caught, the run exits 0. The scenario is the embedded one, named from a directory
// with no scenario files.
func TestBenchQuickFlockNone(t *testing.T) {
	code, out, run := runBench(t, "--scenario", "quick", "--backends", "flock,none", "--workers", "1,4",
		"--duration", "400ms", "--warmup", "100ms", "--hold", "5us")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if len(run.Cells) != 4 {
		t.Fatalf("%d cells:\n%s", len(run.Cells), out)
	}
	for _, c := range run.Cells {
		switch {
		case c.Failed != "" || c.Skipped != "":
			t.Errorf("%s W=%d: failed %q skipped %q", c.Backend, c.Workers, c.Failed, c.Skipped)
		case c.Backend == "flock" && c.Violations != 0:
			t.Errorf("flock W=%d: %d violations", c.Workers, c.Violations)
		case c.Backend == "none" && c.Workers > 1 && c.Violations == 0:
			t.Errorf("none W=%d: the control was not caught", c.Workers)
		case c.Ops == 0:
			t.Errorf("%s W=%d: no ops", c.Backend, c.Workers)
		}
	}
	for _, want := range []string{"backend", "violations", "flock", "seed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The same against the wwly server. Nothing here is skipped: a wwly cell that does not run, fails
// or makes too few ops is a failure of this test, with the cell's reason.
func TestBenchQuickWwly(t *testing.T) {
	code, out, run := runBench(t, "--backends", "wwly", "--workers", "1,4", "--locks", "1",
		"--duration", "400ms", "--warmup", "100ms", "--min-ops", "5")
	for _, c := range run.Cells {
		switch {
		case c.Skipped != "":
			t.Errorf("wwly W=%d skipped: %s", c.Workers, c.Skipped)
		case c.Failed != "":
			t.Errorf("wwly W=%d failed: %s", c.Workers, c.Failed)
		case c.Insufficient != "":
			t.Errorf("wwly W=%d is not a result: %s", c.Workers, c.Insufficient)
		case c.Violations != 0:
			t.Errorf("wwly W=%d: %d violations", c.Workers, c.Violations)
		}
	}
	if code != 0 || t.Failed() {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
