package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
	"github.com/wwly/wwly/server"
)

func TestEventArgs(t *testing.T) {
	cases := []struct {
		name string
		argv []string
		want int // exit status; 0 = parsed (the run then fails to dial, which is not checked here)
	}{
		{"unknown action", []string{"event", "toggle", "x"}, exitUsage},
		{"missing name", []string{"event", "wait"}, exitUsage},
		{"timeout on set", []string{"event", "set", "--timeout", "1s", "x"}, exitUsage},
		{"keep on wait", []string{"event", "wait", "--keep", "1s", "x"}, exitUsage},
		{"negative", []string{"event", "wait", "--timeout", "-1s", "x"}, exitUsage},
		{"bad flag", []string{"event", "wait", "--nope", "x"}, exitUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootCmd()
			root.SetArgs(tc.argv)
			root.SetOut(io.Discard)
			root.SetErr(io.Discard)
			err := root.Execute()
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != tc.want {
				t.Fatalf("%v: %v, want exit %d", tc.argv, err, tc.want)
			}
		})
	}
}

// startEventServer runs an in-process server for the event command's tests.
func startEventServer(t *testing.T) string {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s.Addr()
}

func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

func TestEventRun(t *testing.T) {
	addr := startEventServer(t)
	run := func(o eventOptions) int {
		o.conn.addr = addr
		return exitCode(runEvent(context.Background(), &o))
	}
	if got := run(eventOptions{action: "wait", name: "e", timeout: 30 * time.Millisecond}); got != exitTimeout {
		t.Fatalf("wait on an unset event: exit %d, want %d", got, exitTimeout)
	}
	if got := run(eventOptions{action: "is-set", name: "e"}); got != exitTimeout {
		t.Fatalf("is-set on an unset event: exit %d, want %d", got, exitTimeout)
	}
	woke := make(chan int, 1)
	go func() { woke <- run(eventOptions{action: "wait", name: "e", timeout: 10 * time.Second}) }()
	obs, err := client.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		st, err := obs.Status(context.Background(), "e")
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 1 && st[0].Waiters == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the waiter never queued")
		}
	}
	if got := run(eventOptions{action: "set", name: "e"}); got != 0 {
		t.Fatalf("set: exit %d", got)
	}
	if got := <-woke; got != 0 {
		t.Fatalf("wait woken by set: exit %d, want 0", got)
	}
	// --keep: a wait that starts after the set finds it set.
	kept := make(chan int, 1)
	go func() { kept <- run(eventOptions{action: "set", name: "k", keep: 300 * time.Millisecond}) }()
	var got int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got = run(eventOptions{action: "is-set", name: "k"}); got == 0 {
			break
		}
	}
	if got != 0 {
		t.Fatalf("is-set during set --keep: exit %d, want 0", got)
	}
	if got := <-kept; got != 0 {
		t.Fatalf("set --keep: exit %d", got)
	}
	if err := obs.Semaphore("sem", 1).Acquire(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if got := run(eventOptions{action: "set", name: "sem"}); got != exitSoftware {
		t.Fatalf("set on a semaphore's name: exit %d, want %d", got, exitSoftware)
	}
}
