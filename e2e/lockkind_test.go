package e2e

import (
	"testing"
	"time"
)

// TestLockCLIKinds: `wwly lock -s` holds share a reader/writer lock and keep `-x` out, a plain
// lock on that name is another kind and is refused, and `--semaphore 2` admits two holders at
// once but not a third.
func TestLockCLIKinds(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	run := func(t *testing.T, args ...string) int {
		t.Helper()
		return start(t, wwlyCmd(srv.addr, args...)).wait(t, 20*time.Second)
	}
	// hold starts `wwly lock ARGS NAME -- sleep 30` and waits until it holds (its child wrote pid).
	hold := func(t *testing.T, name string, flags ...string) *proc {
		t.Helper()
		pidFile := t.TempDir() + "/pid"
		args := append([]string{"lock"}, flags...)
		args = append(args, name, "--", "sh", "-c", "echo $$ > "+pidFile+"; exec sleep 30")
		p := start(t, wwlyCmd(srv.addr, args...))
		waitPidFile(t, pidFile)
		return p
	}

	t.Run("shared", func(t *testing.T) {
		a := hold(t, "rw", "-s")
		defer a.cmd.Process.Kill()
		// A second reader gets in at once while the first holds.
		if code := run(t, "lock", "-s", "-n", "rw", "--", "true"); code != 0 {
			t.Fatalf("second shared hold: exit %d, want 0", code)
		}
		// A writer waits while a reader holds.
		if code := run(t, "lock", "-x", "-n", "rw", "--", "true"); code != 75 {
			t.Fatalf("exclusive beside a shared hold: exit %d, want 75 (taken)", code)
		}
		// The same name as a plain Mutex is another kind: refused, not queued.
		if code := run(t, "lock", "-n", "rw", "--", "true"); code != 70 {
			t.Fatalf("exclusive Mutex on an RWMutex name: exit %d, want 70", code)
		}
	})
	t.Run("exclusive token", func(t *testing.T) {
		if code := run(t, "lock", "-x", "rw2", "--", "sh", "-c", `test "$WWLY_LOCK_TOKEN" -gt 0`); code != 0 {
			t.Fatalf("-x child did not see a fencing token (exit %d)", code)
		}
	})
	t.Run("semaphore", func(t *testing.T) {
		a := hold(t, "sem", "--semaphore", "2")
		defer a.cmd.Process.Kill()
		b := hold(t, "sem", "--semaphore", "2")
		defer b.cmd.Process.Kill()
		if code := run(t, "lock", "--semaphore", "2", "-n", "sem", "--", "true"); code != 75 {
			t.Fatalf("third permit of 2: exit %d, want 75 (taken)", code)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"lock", "-s", "--semaphore", "2", "n", "--", "true"},
			{"lock", "-s", "--ttl", "5s", "n", "--", "true"},
			{"lock", "-s", "-x", "n", "--", "true"},
		} {
			if code := run(t, args...); code != 64 {
				t.Errorf("%v: exit %d, want 64", args, code)
			}
		}
	})
}
