package loadgen

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunScenarioWritesRun(t *testing.T) {
	root := t.TempDir()
	var out bytes.Buffer
	sc := Scenario{Name: "t", Backends: []string{"tflock", "tnone", "tmissing"}, Workers: []int{1, 3}, Locks: []int{1},
		Hold: Duration(10 * time.Microsecond), Duration: Duration(200 * time.Millisecond), Repeat: 1, Seed: 99}
	run, err := RunScenario(context.Background(), Options{Scenario: sc, ResultsRoot: root,
		OutDir: filepath.Join(root, "r1"), WorkerCommand: testWorkerCommand, Lookup: testLookup, Out: &out,
		Interval: 100 * time.Millisecond})
	// tmissing is not a backend: its cells fail, so the run fails.
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("err = %v, want ErrFailed\n%s", err, out.String())
	}
	if len(run.Cells) != 6 {
		t.Fatalf("%d cells", len(run.Cells))
	}
	back, err := ReadRun(filepath.Join(root, "r1", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if back.Config.Seed != 99 || len(back.Cells) != 6 || back.Machine.CPUs == 0 || back.Versions["go"] == "" {
		t.Fatalf("run.json: %+v", back)
	}
	for _, c := range back.Cells {
		switch c.Backend {
		case "tflock":
			if c.Failed != "" || c.Violations != 0 || c.Ops == 0 {
				t.Errorf("flock cell %+v", c)
			}
			if _, err := os.Stat(filepath.Join(root, "r1", c.Hlog)); err != nil {
				t.Errorf("hlog: %v", err)
			}
		case "tnone":
			if c.Workers > 1 && c.Violations == 0 {
				t.Errorf("control not caught: %+v", c)
			}
		}
	}
	if dst, err := os.Readlink(filepath.Join(root, "latest")); err != nil || dst != "r1" {
		t.Fatalf("latest -> %q, %v", dst, err)
	}
	for _, want := range []string{"backend", "tflock", "jain", "FAILED", "seed 99"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name  string
		cells []Cell
		want  error
	}{
		{name: "clean", cells: []Cell{{Backend: "wwly", Workers: 8}, {Backend: "none", Workers: 8, Violations: 3}}},
		{name: "failed", cells: []Cell{{Backend: "wwly", Workers: 8, Failed: "MUTUAL EXCLUSION VIOLATED"}}, want: ErrFailed},
		{name: "control clean", cells: []Cell{{Backend: "none", Workers: 8}}, want: ErrControlClean},
		{name: "control W=1", cells: []Cell{{Backend: "none", Workers: 1}}},
		{name: "skipped", cells: []Cell{{Backend: "etcd", Skipped: "etcd not found"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verdict(&Run{Cells: tt.cells})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verdict = %v, want %v", err, tt.want)
			}
		})
	}
}
