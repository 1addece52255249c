package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockCLI checks `wwly lock`'s exit statuses and the child's environment.
func TestLockCLI(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	run := func(t *testing.T, args ...string) int {
		t.Helper()
		return start(t, wwlyCmd(srv.addr, args...)).wait(t, 20*time.Second)
	}

	t.Run("child status", func(t *testing.T) {
		if code := run(t, "lock", "st", "--", "sh", "-c", "exit 7"); code != 7 {
			t.Errorf("exit = %d, want the child's 7", code)
		}
		if code := run(t, "lock", "st", "--", "sh", "-c", "kill -TERM $$"); code != 128+15 {
			t.Errorf("exit = %d, want 143 for a child killed by SIGTERM", code)
		}
	})
	t.Run("env", func(t *testing.T) {
		if code := run(t, "lock", "envname", "--", "sh", "-c",
			`test "$WWLY_LOCK_NAME" = envname && test "$WWLY_LOCK_TOKEN" -gt 0`); code != 0 {
			t.Errorf("child did not see WWLY_LOCK_NAME/WWLY_LOCK_TOKEN (exit %d)", code)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"lock"}, {"lock", "n", "--"}, {"lock", "n", "true"}, {"lock", "--bogus", "n", "--", "true"}} {
			if code := run(t, args...); code != 64 {
				t.Errorf("%v: exit = %d, want 64", args, code)
			}
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		if code := start(t, wwlyCmd(freeAddr(t), "lock", "n", "--", "true")).wait(t, 20*time.Second); code != 69 {
			t.Errorf("exit = %d, want 69", code)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		m := dialT(t, srv.addr).Mutex("busy")
		if err := m.LockContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Unlock()
		began := time.Now()
		if code := run(t, "lock", "--timeout", "200ms", "busy", "--", "true"); code != 75 {
			t.Errorf("exit = %d, want 75", code)
		}
		if d := time.Since(began); d > 10*time.Second {
			t.Errorf("a 200ms timeout took %v", d)
		}
	})
	t.Run("status", func(t *testing.T) {
		m := dialT(t, srv.addr).Mutex("shown")
		if err := m.LockContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer m.Unlock()
		p := start(t, wwlyCmd(srv.addr, "status", "--json", "shown"))
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("status exited %d", code)
		}
		var got []struct {
			Name    string `json:"name"`
			Holder  uint64 `json:"holder"`
			Token   uint64 `json:"token"`
			Waiters int    `json:"waiters"`
		}
		if err := json.Unmarshal([]byte(p.stdout.String()), &got); err != nil {
			t.Fatalf("status --json output %q: %v", p.stdout.String(), err)
		}
		if len(got) != 1 || got[0].Name != "shown" || got[0].Token != m.Token() || got[0].Holder == 0 {
			t.Errorf("status --json = %+v, want shown held under token %d", got, m.Token())
		}
		p = start(t, wwlyCmd(srv.addr, "status"))
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("status exited %d", code)
		}
		if out := p.stdout.String(); !strings.Contains(out, "shown") || !strings.Contains(out, strconv.FormatUint(m.Token(), 10)) {
			t.Errorf("status table lacks the lock:\n%s", out)
		}
	})
	t.Run("status names the holder", func(t *testing.T) {
		holder := start(t, wwlyCmd(srv.addr, "lock", "whose", "--", "sh", "-c",
			`trap 'exit 0' INT; echo ready; while :; do sleep 0.05; done`))
		holder.stdout.waitLine(t, "ready", 10*time.Second)
		host, err := os.Hostname()
		if err != nil {
			t.Fatal(err)
		}
		pid := holder.cmd.Process.Pid
		p := start(t, wwlyCmd(srv.addr, "status", "--json", "whose"))
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("status exited %d", code)
		}
		var got []struct {
			Holder     uint64 `json:"holder"`
			HolderInfo struct {
				Session uint64 `json:"session"`
				Name    string `json:"client_name"`
				Host    string `json:"host"`
				PID     int    `json:"pid"`
				Locks   int    `json:"locks"`
			} `json:"holder_info"`
		}
		if err := json.Unmarshal([]byte(p.stdout.String()), &got); err != nil {
			t.Fatalf("status --json output %q: %v", p.stdout.String(), err)
		}
		if len(got) != 1 || got[0].HolderInfo.PID != pid || got[0].HolderInfo.Host != host ||
			got[0].HolderInfo.Session != got[0].Holder || got[0].HolderInfo.Name != "wwly lock whose" ||
			got[0].HolderInfo.Locks != 1 {
			t.Errorf("status --json = %+v, want holder 'wwly lock whose' on %s pid %d", got, host, pid)
		}
		want := "wwly lock whose host=" + host + " pid=" + strconv.Itoa(pid)
		for _, args := range [][]string{{"status", "whose"}, {"status", "--sessions"}} {
			p = start(t, wwlyCmd(srv.addr, args...))
			if code := p.wait(t, 10*time.Second); code != 0 {
				t.Fatalf("%v exited %d", args, code)
			}
			if out := p.stdout.String(); !strings.Contains(out, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, out)
			}
		}
		if err := holder.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := holder.wait(t, 10*time.Second); code != 0 {
			t.Errorf("holder exit = %d, want 0", code)
		}
	})
	t.Run("signal forwarded", func(t *testing.T) {
		p := start(t, wwlyCmd(srv.addr, "lock", "sig", "--", "sh", "-c",
			`trap 'exit 3' INT; echo ready; while :; do sleep 0.05; done`))
		p.stdout.waitLine(t, "ready", 10*time.Second)
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(t, 10*time.Second); code != 3 {
			t.Errorf("exit = %d, want 3 from the child's INT trap", code)
		}
	})
	t.Run("killed with wwly lock", func(t *testing.T) {
		pidFile := filepath.Join(t.TempDir(), "pid")
		p := start(t, wwlyCmd(srv.addr, "lock", "orphan", "--", "sh", "-c", `echo $$ > "$1"; exec sleep 60`, "sh", pidFile))
		pid := waitPidFile(t, pidFile)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.wait(t, 10*time.Second)
		waitGone(t, pid, 5*time.Second, "child of a SIGKILLed wwly lock")
	})
}

// TestLockCLILost: when the server goes away while the command runs, wwly lock terminates the
// command's process group and exits 76.
func TestLockCLILost(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	pidFile := filepath.Join(t.TempDir(), "pid")
	// The child ignores SIGTERM, so it takes the SIGKILL after --kill-after.
	p := start(t, wwlyCmd(srv.addr, "lock", "--kill-after", "300ms", "doomed", "--",
		"sh", "-c", `trap '' TERM; echo $$ > "$1"; sleep 60 & wait; sleep 60`, "sh", pidFile))
	pid := waitPidFile(t, pidFile)
	srv.kill(t)
	if code := p.wait(t, 15*time.Second); code != 76 {
		t.Errorf("exit = %d, want 76", code)
	}
	waitGone(t, pid, 5*time.Second, "child after lock loss")
}

// TestLockCLILeaseStalledServer: with --ttl, a server that stops answering (SIGSTOP) makes the
// holder give up the lock by itself — the lease cannot be renewed — and wwly lock exits 76.
func TestLockCLILeaseStalledServer(t *testing.T) {
	srv := &serverProc{args: []string{"--heartbeat-interval", "100ms", "--heartbeat-timeout", "5s"}}
	startServerProc(t, srv)
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := start(t, wwlyCmd(srv.addr, "lock", "--ttl", "1s", "--kill-after", "300ms", "leased", "--",
		"sh", "-c", `echo $$ > "$1"; exec sleep 60`, "sh", pidFile))
	pid := waitPidFile(t, pidFile)
	time.Sleep(1500 * time.Millisecond) // renewals keep it through more than one lease
	if !pidAlive(pid) {
		t.Fatal("command died while its lease was being renewed")
	}
	if err := srv.p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.p.cmd.Process.Signal(syscall.SIGCONT) })
	began := time.Now()
	if code := p.wait(t, 15*time.Second); code != 76 {
		t.Errorf("exit = %d, want 76", code)
	}
	t.Logf("lease given up %v after the server stalled (ttl 1s)", time.Since(began))
	waitGone(t, pid, 5*time.Second, "child after lease loss")
}

func waitPidFile(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("pid file %q: %v", s, err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("child never wrote its pid")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitGone(t *testing.T, pid int, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for pidAlive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) still alive after %v", what, pid, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
