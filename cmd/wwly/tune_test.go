package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTuneCLI(t *testing.T) {
	bin := fakeBench(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{"pick the fast one", []string{"--set", "mode=fast,slow", "--flush-batch", "1,16"}, 0,
			// The fake's jitter decides between the two fast configurations.
			[]string{"4 configurations", " --mode=fast` (", "**Recommended:** `--flush-batch="}},
		{"a violating configuration is an error", []string{"--set", "mode=fast,violate"}, 2,
			[]string{"mutual-exclusion", "**Recommended:** `--mode=fast`"}},
		{"bad list", []string{"--loops", "1,,2"}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			cmd := newTuneCmd()
			var stdout bytes.Buffer
			cmd.SetOut(&stdout)
			cmd.SetErr(&stdout)
			cmd.SetArgs(append([]string{"--bin", bin, "--out", out}, tc.args...))
			cmd.SetContext(context.Background())
			err := cmd.Execute()
			code := 0
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %v\n%s", code, tc.wantCode, err, stdout.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, stdout.String())
				}
			}
			if tc.wantOut != nil {
				for _, f := range []string{"tune.json", "tune.md"} {
					if _, err := os.Stat(filepath.Join(out, f)); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
}
