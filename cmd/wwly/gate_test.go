package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wwly/wwly/gate"
)

// fakeBench writes a stand-in wwly binary (bash) whose `bench` writes a run.json: a wwly cell
// and a tcp-echo cell with ~2% jitter, 30% slower when --server-args contains "slow", with a
// violation when it contains "violate". It stands in for the subprocess plumbing only; the real
// harness is exercised by scripts/gate-proof.sh.
func fakeBench(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := `#!/usr/bin/env bash
[ "$1" = bench ] || exit 3
shift
out= ; sargs=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift;;
    --server-args) sargs=$2; shift;;
  esac
  shift
done
mkdir -p "$out"
slow=100; viol=0
case "$sargs" in *slow*) slow=130;; esac
case "$sargs" in *violate*) viol=1;; esac
j=$((RANDOM % 2000))
p50=$(( (150000 + j) * slow / 100 ))
ops=$(( 40000 * 100 / slow - j ))
cat > "$out/run.json" <<JSON
{"schema":2,"id":"fake","config":{"duration":"3s"},"cells":[
 {"backend":"wwly","workers":8,"locks":1,"mode":"closed","ops_per_sec":$ops,"violations":$viol,
  "latency_ns":{"p50":$p50,"p90":$((2*p50)),"p99":$((5*p50)),"max":$((20*p50))}},
 {"backend":"tcp-echo","workers":8,"mode":"closed","ops_per_sec":110000,
  "latency_ns":{"p50":$((60000+j)),"p90":120000,"p99":300000,"max":900000}}]}
JSON
echo "fake bench wrote $out"
`
	bin := filepath.Join(t.TempDir(), "wwly-fake")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

func runGateCLI(t *testing.T, args ...string) (int, string, *gate.Report) {
	t.Helper()
	out := t.TempDir()
	cmd := newGateCmd()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(append([]string{"--out", out, "--seed", "7"}, args...))
	cmd.SetContext(context.Background())
	err := cmd.Execute()
	code := 0
	if err != nil {
		ee, ok := err.(*exitError)
		if !ok {
			t.Fatalf("error without exit status: %v", err)
		}
		code = ee.code
		stderr.WriteString(ee.Error())
	}
	var rep gate.Report
	b, rerr := os.ReadFile(filepath.Join(out, "gate.json"))
	if rerr == nil {
		rerr = json.Unmarshal(b, &rep)
	}
	if rerr != nil {
		t.Fatalf("gate.json: %v\n%s", rerr, stdout.String())
	}
	return code, stdout.String() + stderr.String(), &rep
}

func TestGateCLI(t *testing.T) {
	bin := fakeBench(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"A/A two binaries", []string{"--base-bin", bin, "--cand-bin", bin}, 0, []string{"ops/s", "p90", "pass", "seed 7"}},
		{"same binary, slow candidate config", []string{"--cand-bin", bin, "--cand-server-args", "--slow"}, 1, []string{"REGRESSION", "attempt 2"}},
		{"violation is an error", []string{"--cand-bin", bin, "--cand-server-args", "--violate"}, 2, []string{"mutual-exclusion"}},
		{"too few pairs to ever fail is allowed", []string{"--base-bin", bin, "--cand-bin", bin, "--pairs", "4"}, 0, []string{"cannot reach"}},
		{"bad threshold", []string{"--base-bin", bin, "--cand-bin", bin, "--threshold", "-1"}, 2, nil},
		{"--run without --baseline", []string{"--run", "x"}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, rep := runGateCLI(t, tc.args...)
			wantVerdict := map[int]gate.Verdict{0: gate.Pass, 1: gate.Regression, 2: gate.VerdictError}[tc.wantCode]
			if rep.Verdict != wantVerdict {
				t.Errorf("gate.json verdict %q, want %q", rep.Verdict, wantVerdict)
			}
			if code != tc.wantCode || rep.Exit != code {
				t.Fatalf("exit %d (report %d), want %d\n%s", code, rep.Exit, tc.wantCode, out)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestGateCLIBaseline(t *testing.T) {
	bin := fakeBench(t)
	baseDir := filepath.Join(t.TempDir(), "baseline")
	if err := exec.Command(bin, "bench", "--out", baseDir).Run(); err != nil {
		t.Fatal(err)
	}
	slowDir := filepath.Join(t.TempDir(), "slow")
	if err := exec.Command(bin, "bench", "--out", slowDir, "--server-args", "slow").Run(); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runGateCLI(t, "--baseline", baseDir, "--cand-bin", bin); code != 0 || !strings.Contains(out, "no p-value") {
		t.Errorf("same: exit %d\n%s", code, out)
	}
	if code, out, rep := runGateCLI(t, "--baseline", baseDir, "--run", slowDir); code != 1 || rep.Baseline == nil {
		t.Errorf("slow: exit %d\n%s", code, out)
	}
}
