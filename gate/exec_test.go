package gate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeRun(t *testing.T, dir string, cells []Cell) {
	t.Helper()
	b, err := json.Marshal(map[string]any{"schema": RunSchema, "id": "x", "config": map[string]any{"duration": "3s"}, "cells": cells})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCells(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, runCells(1, 2, 3, 4))
	cells, err := LoadCells(dir)
	if err != nil || len(cells) != 2 || cells[0].Latency.P50 != 2 {
		t.Fatalf("%v %+v", err, cells)
	}
	// A parent of run directories: the newest one is read.
	parent := t.TempDir()
	writeRun(t, filepath.Join(parent, "old"), runCells(1, 2, 3, 4))
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(filepath.Join(parent, "old", "run.json"), old, old)
	writeRun(t, filepath.Join(parent, "new"), runCells(5, 6, 7, 8))
	if cells, err := LoadCells(parent); err != nil || cells[0].OpsPerSec != 5 {
		t.Fatalf("parent: %v %+v", err, cells)
	}
	if _, err := LoadCells(t.TempDir()); !errors.Is(err, ErrBench) {
		t.Fatalf("empty dir: %v", err)
	}
}

func TestDecodeRun(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{`{"schema":1,"cells":[{"backend":"wwly","ops_per_sec":5}]}`, nil},
		{`{"schema":2,"cells":[]}`, nil},
		{`{"schema":3,"cells":[]}`, ErrRunFormat},
		{`{"schema":1,"cells":[{"backend":7}]}`, ErrRunFormat},
		{`not json`, ErrRunFormat},
	} {
		if _, err := DecodeRun([]byte(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.in, err, tc.want)
		}
	}
}

func FuzzDecodeRun(f *testing.F) {
	f.Add([]byte(`{"schema":1,"cells":[{"backend":"wwly","workers":8,"latency_ns":{"p50":100}}]}`))
	f.Add([]byte(`{"schema":1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cells, err := DecodeRun(b)
		if err != nil {
			return
		}
		// Whatever decodes must summarize or fail with a sentinel, never panic.
		if _, _, err := Summarize(cells); err != nil && !errors.Is(err, ErrNoData) && !errors.Is(err, ErrCellFailed) {
			t.Fatalf("summarize: %v", err)
		}
	})
}

// TestBenchCmdRun drives the subprocess plumbing with a stand-in `bench` written in sh: it checks
// the argv and writes a run.json. (The measured path is exercised for real by scripts/gate-proof.sh.)
func TestBenchCmdRun(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	runJSON, _ := json.Marshal(map[string]any{"schema": RunSchema, "cells": runCells(10, 20, 30, 40)})
	script := "#!/bin/sh\n" +
		"echo \"args: $*\"\n" +
		"[ \"$1\" = bench ] && [ \"$2\" = --out ] || exit 3\n" +
		"case \"$*\" in *'--server-args --flush-interval=1ms --loops=2'*) ;; *) exit 4;; esac\n" +
		"cat > \"$3/run.json\" <<'EOF'\n" + string(runJSON) + "\nEOF\n"
	bin := filepath.Join(dir, "fakewwly")
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	b := BenchCmd{Bin: bin, Scenario: "s.yaml", ServerArgs: "--flush-interval=1ms --loops=2", Output: &out}
	run := ExecRunner(b, b, filepath.Join(dir, "runs"))
	cells, err := run(context.Background(), Cand, 3)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(cells) != 2 || cells[1].Latency.P50 != 40 {
		t.Fatalf("%+v", cells)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "cand-03", "run.json")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--scenario s.yaml") {
		t.Errorf("output %q", out.String())
	}
	// A failing bench is ErrBench with its output in the message.
	b.ServerArgs = ""
	if _, err := b.Run(context.Background(), filepath.Join(dir, "x")); !errors.Is(err, ErrBench) || !strings.Contains(err.Error(), "args:") {
		t.Fatalf("failing bench: %v", err)
	}
}

// TestBenchCmdCancel: a cancelled bench gets SIGTERM and Run returns promptly with the context's
// error, not after the bench's own 30 s.
func TestBenchCmdCancel(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "slowbench")
	// Like bench, it stops its children on SIGTERM.
	script := "#!/bin/sh\nsleep 30 >/dev/null 2>&1 &\nchild=$!\ntrap 'kill $child; echo stopped; exit 9' TERM\nwait\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := BenchCmd{Bin: bin}.Run(ctx, filepath.Join(dir, "out"))
	if !errors.Is(err, ErrBench) || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Run took %v after cancellation", d)
	}
}
