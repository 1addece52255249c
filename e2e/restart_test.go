package e2e

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRestartRightAfterStop: `wwly serve` stopped by SIGTERM while a client held a lock can be
// started again on the same port within a second (it used to fail with "bind: address already
// in use" for about a minute, held up by the TIME_WAIT of the accepted connections).
func TestRestartRightAfterStop(t *testing.T) {
	srv := &serverProc{dataDir: t.TempDir()}
	startServerProc(t, srv)
	for run := range 2 {
		c := dialT(t, srv.addr)
		if err := c.Mutex("held").LockContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := srv.p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := srv.p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("run %d: serve exited %d after SIGTERM", run, code)
		}
		stopped := time.Now()
		if err := tryStartServer(t, srv); err != nil {
			t.Fatalf("run %d: restart on %s: %v", run, srv.addr, err)
		}
		if d := time.Since(stopped); d > time.Second {
			t.Fatalf("run %d: restart took %v", run, d)
		}
	}
}

// TestSecondServeRefused: a second `wwly serve` on a live server's port, or on its data dir,
// exits with a clear error and leaves the first one serving.
func TestSecondServeRefused(t *testing.T) {
	if !serveWorks() {
		t.Fatal("wwly serve is not available in this build")
	}
	srv := &serverProc{dataDir: t.TempDir()}
	startServerProc(t, srv)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"same port", []string{"--addr", srv.addr, "--data-dir", t.TempDir()}, "address already in use"},
		{"same data dir", []string{"--addr", "127.0.0.1:0", "--data-dir", srv.dataDir}, "data dir in use"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, wwlyBin, append([]string{"serve"}, tt.args...)...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("second serve: %v, output:\n%s\nwant an error containing %q", err, out, tt.want)
			}
		})
	}
	c := dialT(t, srv.addr)
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatalf("first server no longer serves: %v", err)
	}
}
