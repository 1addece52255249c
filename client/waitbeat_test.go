//go:build unix

package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wwly/wwly/server"
)

// Short heartbeats, yet long enough that a loaded box running the race detector does not
// starve a heartbeating Client past the timeout.
const (
	testBeat    = 100 * time.Millisecond
	testTimeout = time.Second
)

func shortBeats(c *server.Config) { c.HeartbeatInterval, c.HeartbeatTimeout = testBeat, testTimeout }

// TestWaiterSendsNoHeartbeats: a Client whose only business is a Lock queued behind another
// hold sends nothing (no PING; its heartbeat parks) for a couple of heartbeat timeouts, and neither
// side cuts it; once granted it heartbeats again and stays connected. The holder's Client also
// waits (a second Mutex of the same name, queued behind its own hold), so that no heartbeat,
// which a very loaded box can starve, keeps the scene together.
func TestWaiterSendsNoHeartbeats(t *testing.T) {
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			addr := startServer(t, shortBeats)
			holder, waiter := dial(t, addr, WithIOMode(mode)), dial(t, addr, WithIOMode(mode))
			hm, hm2, wm := holder.Mutex("q"), holder.Mutex("q"), waiter.Mutex("q")
			hm.Lock()
			got, got2 := make(chan error, 1), make(chan error, 1)
			go func() { got2 <- hm2.LockContext(context.Background()) }()
			eventually(t, 5*time.Second, "holder's second Mutex queued", func() bool {
				ls, err := waiter.Status(context.Background(), "q")
				return err == nil && len(ls) == 1 && ls[0].Waiters == 1
			})
			go func() { got <- wm.LockContext(context.Background()) }()
			eventually(t, 5*time.Second, "waiter queued", func() bool {
				ls, err := holder.Status(context.Background(), "q")
				return err == nil && len(ls) == 1 && ls[0].Waiters == 2
			})
			before, hbefore := waiter.pings.Load(), holder.pings.Load()
			time.Sleep(2 * testTimeout)
			if n := waiter.pings.Load() - before; n != 0 {
				t.Errorf("waiter sent %d PINGs while queued, want 0", n)
			}
			if n := holder.pings.Load() - hbefore; n != 0 {
				t.Errorf("holder sent %d PINGs while its second Mutex was queued, want 0", n)
			}
			alive(t, waiter, "waiter while queued")
			alive(t, holder, "holder")
			hm.Unlock()
			receive(t, got2, "holder's second Mutex")
			hm2.Unlock()
			receive(t, got, "waiter")
			// Now a holder: it must heartbeat to stay connected.
			time.Sleep(testTimeout + testTimeout/2)
			alive(t, waiter, "waiter once holding")
			notClosed(t, wm.Lost(), "waiter's Lost once holding")
			if waiter.pings.Load() == before {
				t.Error("granted waiter sent no PING while holding")
			}
			wm.Unlock()
		})
	}
}

// receive fails the test unless a nil error comes on ch within 10 s.
func receive(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatalf("%s: LockContext: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not granted within 10s", what)
	}
}

// alive fails the test if c's connection is gone.
func alive(t *testing.T, c *Client, what string) {
	t.Helper()
	select {
	case <-c.Done():
		t.Fatalf("%s: connection gone: %v", what, c.Err())
	default:
	}
}

// serverProcEnv, set to a data directory, makes the test binary a wwly server (see TestMain),
// which a test can stop.
const serverProcEnv = "WWLY_CLIENT_TEST_SERVER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(serverProcEnv); dir != "" {
		os.Exit(runServerProc(dir))
	}
	os.Exit(m.Run())
}

// runServerProc serves with short heartbeats and its data in dir until killed, its address on
// stdout.
func runServerProc(dir string) int {
	cfg := server.DefaultConfig()
	cfg.Addr, cfg.DataDir = "127.0.0.1:0", dir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	shortBeats(&cfg)
	s, err := server.New(cfg)
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	return 0
}

// startServerProc runs a server in a child process, stopped and reaped when the test ends.
func startServerProc(t *testing.T) (addr string, proc *os.Process) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverProcEnv+"="+t.TempDir())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server process: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr = <-line:
	case <-time.After(10 * time.Second):
		t.Fatal("server process printed no address within 10s")
	}
	if addr == "" {
		t.Fatal("server process failed to start")
	}
	return addr, cmd.Process
}

// TestStoppedServerDetected: a Client that holds a lock, or is idle, notices a SIGSTOPped server
// (its kernel still answers TCP, so only the missing PONGs tell) within the heartbeat timeout
// plus a sweep; both fail with ErrTimeout and the holder's Lost closes.
func TestStoppedServerDetected(t *testing.T) {
	addr, proc := startServerProc(t)
	holder, idle := dial(t, addr), dial(t, addr)
	m := holder.Mutex("held")
	if err := m.LockContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP: %v", err)
	}
	stopped := time.Now()
	const bound = testTimeout + testBeat + 3*time.Second // + slack for a loaded box
	for _, c := range []struct {
		name string
		cl   *Client
	}{{"holder", holder}, {"idle", idle}} {
		waitClosed(t, c.cl.Done(), bound-time.Since(stopped), c.name+"'s Done with the server stopped")
		if !errors.Is(c.cl.Err(), ErrTimeout) {
			t.Errorf("%s: Err() = %v, want ErrTimeout", c.name, c.cl.Err())
		}
	}
	waitClosed(t, m.Lost(), time.Second, "holder's Lost")
	t.Logf("both noticed within %v of SIGSTOP (timeout %v)", time.Since(stopped), testTimeout)
}
