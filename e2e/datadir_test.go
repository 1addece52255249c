package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startDefaultServe starts `wwly serve --addr addr` with no --data-dir and env as its whole
// environment, and waits until it accepts connections.
func startDefaultServe(t *testing.T, addr string, env []string) *proc {
	t.Helper()
	cmd := exec.Command(wwlyBin, "serve", "--addr", addr)
	cmd.Env = env
	p := start(t, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("serve on %s exited early: %v", addr, p.err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve on %s not accepting", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDefaultDataDirTokensRise: without --data-dir, `wwly serve` keeps its epoch in
// $XDG_STATE_HOME/wwly/HOST_PORT, so tokens rise across restarts however quick. Before, the epoch
// came from the clock in 10-second steps and tokens after a quick restart were lower.
func TestDefaultDataDirTokensRise(t *testing.T) {
	state := t.TempDir()
	env := []string{"XDG_STATE_HOME=" + state, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	addr := freeAddr(t)
	var last uint64
	for run := range 3 {
		p := startDefaultServe(t, addr, env)
		c := dialT(t, addr)
		m := c.Mutex("fenced")
		if err := m.LockContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		tok := m.Token()
		if tok <= last {
			t.Fatalf("run %d: token %d ≤ %d of the run before", run, tok, last)
		}
		last = tok
		c.Close()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	}
	host, port, _ := net.SplitHostPort(addr)
	if _, err := os.Stat(filepath.Join(state, "wwly", host+"_"+port, "epoch")); err != nil {
		t.Fatalf("no epoch in the default data dir: %v", err)
	}
}

// TestPortZeroNeedsDataDir: with port 0 there is no stable default dir: serve refuses, saying
// what to do, unless told --unsafe-tokens.
func TestPortZeroNeedsDataDir(t *testing.T) {
	env := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, wwlyBin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 64 || !strings.Contains(string(out), "--data-dir") {
		t.Fatalf("serve --addr 127.0.0.1:0: %v, output:\n%s\nwant exit 64 naming --data-dir", err, out)
	}
	p := startUnsafe(t, env)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("serve --unsafe-tokens exited %d", code)
	}
}

// startUnsafe runs `wwly serve --unsafe-tokens` on a fixed free port.
func startUnsafe(t *testing.T, env []string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(wwlyBin, "serve", "--addr", addr, "--unsafe-tokens")
	cmd.Env = env
	p := start(t, cmd)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve --unsafe-tokens on %s not accepting", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
