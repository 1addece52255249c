package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// newServer builds and starts a server from cfg without registering a cleanup.
func newStarted(t *testing.T, cfg Config) (*Server, error) {
	t.Helper()
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, s.Start()
}

func shutdown(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestRestartSamePort: a server stopped while clients were connected (its side of those
// connections now in TIME_WAIT) can be started again on the same port at once, with 1 and 2
// loops. It used to fail with "bind: address already in use" for about a minute.
func TestRestartSamePort(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		cfg := DefaultConfig()
		cfg.Addr, cfg.Loops, cfg.DataDir = "127.0.0.1:0", loops, t.TempDir()
		s, err := newStarted(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr = s.Addr()
		for run := range 3 {
			for i := range 3 {
				c := helloConn(t, s)
				c.lock(fmt.Sprint("held", i))
			}
			shutdown(t, s) // the server closes first: its ends go to TIME_WAIT
			start := time.Now()
			if s, err = newStarted(t, cfg); err != nil {
				t.Fatalf("run %d: restart on %s: %v", run, cfg.Addr, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("run %d: restart took %v", run, d)
			}
			helloConn(t, s).ping()
		}
		shutdown(t, s)
	})
}

// TestSecondServerRefused: while a server is live, another on its port fails to start with a
// clear error, whatever the loops of either.
func TestSecondServerRefused(t *testing.T) {
	for _, loops := range [][2]int{{1, 1}, {1, 2}, {2, 1}, {2, 2}} {
		cfg := DefaultConfig()
		cfg.Addr, cfg.Loops, cfg.DataDir = "127.0.0.1:0", loops[0], t.TempDir()
		first, err := newStarted(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Addr, cfg.Loops, cfg.DataDir = first.Addr(), loops[1], t.TempDir()
		second, err := newStarted(t, cfg)
		if err == nil {
			shutdown(t, second)
			t.Fatalf("loops %v: second server on %s started", loops, cfg.Addr)
		}
		if !errors.Is(err, ErrAddrInUse) || !strings.Contains(err.Error(), cfg.Addr) {
			t.Fatalf("loops %v: second server: %v, want ErrAddrInUse naming %s", loops, err, cfg.Addr)
		}
		helloConn(t, first).ping()
		shutdown(t, first)
	}
}

// TestDataDirInUse: two servers cannot share a data dir (their fencing-token epochs would
// collide); the dir is free again after a shutdown and after a failed start.
func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	first, err := newStarted(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newStarted(t, cfg)
	if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second server on the same data dir: %v, want ErrDataDirInUse naming %s", err, dir)
	}
	shutdown(t, first)
	again, err := newStarted(t, cfg)
	if err != nil {
		t.Fatalf("start after the first stopped: %v", err)
	}
	// A start that fails after taking the lock (busy port) must let go of it.
	busy := cfg
	busy.Addr, busy.DataDir = again.Addr(), t.TempDir()
	if _, err := newStarted(t, busy); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("start on a busy port: %v", err)
	}
	shutdown(t, again)
	if s, err := newStarted(t, busy); err != nil {
		t.Fatalf("data dir still locked after a failed start: %v", err)
	} else {
		shutdown(t, s)
	}
}
