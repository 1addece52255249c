package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
)

// startCaptured is start with stderr captured too (and still copied to the test log).
func startCaptured(t *testing.T, cmd *exec.Cmd) (*proc, *lineBuf) {
	t.Helper()
	stderr := newLineBuf()
	p := &proc{cmd: cmd, done: make(chan struct{}), stdout: newLineBuf()}
	cmd.Stdout = p.stdout
	cmd.Stderr = io.MultiWriter(stderr, &testLogWriter{t: t, prefix: filepath.Base(cmd.Path)})
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", cmd.Args, err)
	}
	go func() {
		p.err = cmd.Wait()
		p.stdout.close()
		stderr.close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p, stderr
}

// holdT takes name through a Go client for the rest of the test.
func holdT(t *testing.T, addr, name string) *client.Mutex {
	t.Helper()
	m := dialT(t, addr).Mutex(name)
	if err := m.LockContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Release() })
	return m
}

// TestLockCLIFlags: the flock(1)-style flags, the shell's statuses for CMD, and name checks
// with the server up.
func TestLockCLIFlags(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	holdT(t, srv.addr, "busy")
	tests := []struct {
		name string
		args []string
		want int
		max  time.Duration // the run must end within this (0: no bound beyond the default)
	}{
		{"nonblock", []string{"lock", "-n", "busy", "--", "true"}, 75, 5 * time.Second},
		{"nonblock long flag", []string{"lock", "--nonblock", "busy", "--", "true"}, 75, 5 * time.Second},
		{"nonblock free", []string{"lock", "-n", "free", "--", "sh", "-c", "exit 4"}, 4, 0},
		{"wait seconds", []string{"lock", "-w", "0.3", "busy", "--", "true"}, 75, 5 * time.Second},
		{"wait duration", []string{"lock", "--wait", "300ms", "busy", "--", "true"}, 75, 5 * time.Second},
		{"wait 0 is nonblock", []string{"lock", "-w", "0", "busy", "--", "true"}, 75, 5 * time.Second},
		{"conflict exit code", []string{"lock", "-n", "-E", "9", "busy", "--", "true"}, 9, 5 * time.Second},
		{"conflict exit code with wait", []string{"lock", "-w", "0.2", "--conflict-exit-code", "0", "busy", "--", "true"}, 0, 5 * time.Second},
		{"timeout still works", []string{"lock", "--timeout", "200ms", "busy", "--", "true"}, 75, 5 * time.Second},
		{"wait bound not reached", []string{"lock", "-w", "5", "free2", "--", "true"}, 0, 0},
		{"command not found", []string{"lock", "n", "--", "wwly-no-such-command"}, 127, 0},
		{"command not executable", []string{"lock", "n", "--", "/etc/hostname"}, 126, 0},
		{"directory", []string{"lock", "n", "--", "/"}, 126, 0},
		{"empty name", []string{"lock", "", "--", "true"}, 64, 0},
		{"300-byte name", []string{"lock", strings.Repeat("x", 300), "--", "true"}, 64, 0},
		{"status empty name", []string{"status", ""}, 64, 0},
		{"status 300-byte name", []string{"status", strings.Repeat("x", 300)}, 64, 0},
		{"no -- before the command", []string{"lock", "n", "true"}, 64, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			code := start(t, wwlyCmd(srv.addr, tc.args...)).wait(t, 20*time.Second)
			if code != tc.want {
				t.Errorf("wwly %s: exit %d, want %d", strings.Join(tc.args, " "), code, tc.want)
			}
			if d := time.Since(began); tc.max > 0 && d > tc.max {
				t.Errorf("took %v, want under %v", d, tc.max)
			}
		})
	}
}

// TestLockCLIConflictMessage: a conflict says one line, unless -E names the status the caller
// handles (then it is silent, as flock -E).
func TestLockCLIConflictMessage(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	holdT(t, srv.addr, "busy")
	p, stderr := startCaptured(t, wwlyCmd(srv.addr, "lock", "-n", "busy", "--", "true"))
	if code := p.wait(t, 10*time.Second); code != 75 || stderr.String() != "wwly: lock busy is taken\n" {
		t.Errorf("-n: exit %d, stderr %q", code, stderr.String())
	}
	p, stderr = startCaptured(t, wwlyCmd(srv.addr, "lock", "-n", "-E", "0", "busy", "--", "true"))
	if code := p.wait(t, 10*time.Second); code != 0 || stderr.String() != "" {
		t.Errorf("-n -E 0: exit %d, stderr %q", code, stderr.String())
	}
}

// TestLockCLIHold: without a command, wwly lock prints the token and holds until SIGTERM or
// SIGINT, then releases and exits 0.
func TestLockCLIHold(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	c := dialT(t, srv.addr)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := start(t, wwlyCmd(srv.addr, "lock", "held"))
			line := p.stdout.waitLine(t, "", 10*time.Second)
			token, err := strconv.ParseUint(line, 10, 64)
			if err != nil || token == 0 {
				t.Fatalf("first line %q: want the token", line)
			}
			locks, err := c.Status(context.Background(), "held")
			if err != nil || len(locks) != 1 || locks[0].Token != token || locks[0].Holder == 0 {
				t.Fatalf("status = %+v, %v: want held under token %d", locks, err, token)
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t, 10*time.Second); code != 0 {
				t.Errorf("exit %d after %v, want 0", code, sig)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			m := c.Mutex("held")
			if err := m.LockContext(ctx); err != nil {
				t.Fatalf("lock not released after %v: %v", sig, err)
			}
			m.Unlock()
		})
	}
}

// TestLockCLISilentServer: a server that goes silent (SIGSTOP) while wwly lock waits is an
// unreachable server (69), not a timeout (75): no --wait was given.
func TestLockCLISilentServer(t *testing.T) {
	srv := &serverProc{args: []string{"--heartbeat-interval", "100ms", "--heartbeat-timeout", "1s"}}
	startServerProc(t, srv)
	holdT(t, srv.addr, "busy")
	p, stderr := startCaptured(t, wwlyCmd(srv.addr, "lock", "busy", "--", "true"))
	watcher := dialT(t, srv.addr)
	eventually(t, 10*time.Second, "wwly lock queued", func() bool {
		locks, err := watcher.Status(context.Background(), "busy")
		return err == nil && len(locks) == 1 && locks[0].Waiters == 1
	})
	if err := srv.p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.p.cmd.Process.Signal(syscall.SIGCONT) })
	began := time.Now()
	if code := p.wait(t, 15*time.Second); code != 69 {
		t.Errorf("exit %d, want 69", code)
	}
	t.Logf("gave up %v after the server stopped (heartbeat timeout 1s)", time.Since(began))
	if msg := stderr.String(); !strings.Contains(msg, "went silent") || strings.Count(msg, "wwly:") != 1 {
		t.Errorf("stderr %q: want one line saying the server went silent", msg)
	}
}

// TestStatusCLIEscapes: names with control bytes or invalid UTF-8 cannot forge table rows, and
// --json carries their exact bytes.
func TestStatusCLIEscapes(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	names := []string{"plain", "esc\x1b[31mred", "two\nlines", "bad\xff\xfeutf8", `"quoted"`, "tab\there"}
	for _, n := range names {
		holdT(t, srv.addr, n)
	}
	p := start(t, wwlyCmd(srv.addr, append([]string{"status"}, names...)...))
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("status exited %d", code)
	}
	table := p.stdout.String()
	if lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n"); len(lines) != 1+len(names) {
		t.Errorf("%d lines for %d locks:\n%s", len(lines), len(names), table)
	}
	if strings.ContainsAny(table, "\x1b\t\xff") {
		t.Errorf("raw control or invalid bytes in the table: %q", table)
	}
	for _, want := range []string{"plain ", `"esc\x1b[31mred"`, `"two\nlines"`, `"bad\xff\xfeutf8"`, `"\"quoted\""`, `"tab\there"`} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %s:\n%s", want, table)
		}
	}

	p = start(t, wwlyCmd(srv.addr, append([]string{"status", "--json"}, names...)...))
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("status --json exited %d", code)
	}
	var got []struct {
		Name    string `json:"name"`
		NameB64 string `json:"name_b64"`
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &got); err != nil {
		t.Fatal(err)
	}
	exact := map[string]bool{}
	for _, l := range got {
		name := l.Name
		if l.NameB64 != "" {
			b, err := base64.StdEncoding.DecodeString(l.NameB64)
			if err != nil {
				t.Fatalf("name_b64 %q: %v", l.NameB64, err)
			}
			name = string(b)
			if name != "bad\xff\xfeutf8" {
				t.Errorf("name_b64 on a valid UTF-8 name %q", name)
			}
		}
		exact[name] = true
	}
	for _, n := range names {
		if !exact[n] {
			t.Errorf("--json lost the exact name %q: %+v", n, got)
		}
	}
}

// eventually polls cond every few ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCLIServerRefusals: a server that is up but says no gives one line saying why, with the
// table's status, and never echoes the token.
func TestCLIServerRefusals(t *testing.T) {
	authSrv := &serverProc{auth: "s3cret-token"}
	startServerProc(t, authSrv)
	fullSrv := &serverProc{args: []string{"--max-conns", "1"}}
	startServerProc(t, fullSrv)
	dialT(t, fullSrv.addr) // takes the only slot
	tests := []struct {
		name, addr, token string
		args              []string
		want              int
		line              string
	}{
		{"no token", authSrv.addr, "", []string{"status"}, 77,
			"wwly: the server at ADDR refused the auth token (give it with --auth-token-file or $WWLY_AUTH_TOKEN)\n"},
		{"wrong token", authSrv.addr, "not-it", []string{"lock", "n", "--", "true"}, 77,
			"wwly: the server at ADDR refused the auth token (give it with --auth-token-file or $WWLY_AUTH_TOKEN)\n"},
		{"right token", authSrv.addr, "s3cret-token", []string{"lock", "n", "--", "true"}, 0, ""},
		{"connection limit", fullSrv.addr, "", []string{"status"}, 69,
			"wwly: the server at ADDR is at its connection limit (its --max-conns): try again later\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := wwlyCmd(tc.addr, tc.args...)
			cmd.Env = append(cmd.Env, "WWLY_AUTH_TOKEN="+tc.token)
			p, stderr := startCaptured(t, cmd)
			if code := p.wait(t, 10*time.Second); code != tc.want {
				t.Errorf("exit %d, want %d", code, tc.want)
			}
			if got := strings.ReplaceAll(stderr.String(), tc.addr, "ADDR"); got != tc.line {
				t.Errorf("stderr %q, want %q", got, tc.line)
			}
			if strings.Contains(stderr.String()+p.stdout.String(), "s3cret") {
				t.Error("the token was printed")
			}
		})
	}
}
