package client

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wwly/wwly/server"
)

// ioModes are the I/O paths every behaviour test runs on.
var ioModes = []IOMode{IONetConn, IOBlockingFD}

// startServer runs an in-process server on a random loopback port until the test ends.
func startServer(tb testing.TB, mutate func(*server.Config)) string {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.DataDir = tb.TempDir() // a persisted epoch, as in production
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := server.New(cfg)
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	if err := s.Start(); err != nil {
		tb.Fatalf("server Start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Errorf("server Shutdown: %v", err)
		}
	})
	return s.Addr()
}

// dial connects a Client that is closed when the test ends.
func dial(tb testing.TB, addr string, opts ...Option) *Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, opts...)
	if err != nil {
		tb.Fatalf("Dial: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// waitClosed fails the test unless ch is closed within d.
func waitClosed(tb testing.TB, ch <-chan struct{}, d time.Duration, what string) {
	tb.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		tb.Fatalf("%s: not closed within %v", what, d)
	}
}

// notClosed fails the test if ch is closed.
func notClosed(tb testing.TB, ch <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-ch:
		tb.Fatalf("%s: closed", what)
	default:
	}
}

// eventually polls cond every few ms until it holds or d passes.
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not true within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
