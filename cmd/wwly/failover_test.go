package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// runFailoverCmd runs `wwly bench failover args...` and returns its output and exit status.
func runFailoverCmd(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	code := run(append([]string{"bench", "failover"}, args...), &out, &out)
	return out.String(), code
}

func TestFailoverFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" when the options are valid
		check   func(o *failoverOptions) bool
	}{
		{"defaults", nil, "", func(o *failoverOptions) bool {
			return o.backend == "wwly-raft" && o.trials == 5 && o.hold == 5*time.Millisecond && o.opTimeout == 2*time.Second
		}},
		{"etcd3", []string{"--backend", "etcd3", "--trials", "2", "--server-args", "--loops=1 --x"}, "", func(o *failoverOptions) bool {
			fo, err := o.benchOptions()
			return err == nil && fo.Backend == "etcd3" && fo.Trials == 2 && len(fo.Start.ServerArgs) == 2
		}},
		{"unknown backend", []string{"--backend", "redis"}, `--backend "redis"`, nil},
		{"no trials", []string{"--trials", "0"}, "--trials 0", nil},
		{"zero hold", []string{"--hold", "0s"}, "--hold 0s", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &failoverOptions{}
			fs := pflag.NewFlagSet("failover", pflag.ContinueOnError)
			bindFailoverFlags(fs, o)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			_, err := o.benchOptions()
			if tt.wantErr == "" {
				if err != nil || !tt.check(o) {
					t.Errorf("options %+v, err %v", *o, err)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v; want a usage error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestFailoverUsageExit: bad flags exit 64 before anything starts.
func TestFailoverUsageExit(t *testing.T) {
	out, code := runFailoverCmd(t, "--backend", "none")
	if code != exitUsage || !strings.Contains(out, "want one of") {
		t.Errorf("exit %d, output %q; want %d and the backends", code, out, exitUsage)
	}
}

// TestFailoverEtcd3 runs one trial against a 3-member etcd: the command prints the trial and
// the summary. The figure is logged, not asserted (the box is shared).
func TestFailoverEtcd3(t *testing.T) {
	if _, err := exec.LookPath("etcd"); err != nil {
		t.Skip("etcd not installed: run scripts/deps.sh")
	}
	out, code := runFailoverCmd(t, "--backend", "etcd3", "--trials", "1", "--dir", t.TempDir())
	t.Log(out)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"trial 1: killed member", "over 1 trials: median"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
