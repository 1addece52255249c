package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
)

// Processes using the primitives beyond the Mutex (issue 8). Each test starts one `wwly serve`
// and re-executes this binary in role "prim" with WWLY_E2E_PRIM naming what to do:
//
//	sem-hold   take WWLY_E2E_N permits of Semaphore(NAME, WWLY_E2E_VALUE), print HELD, sleep
//	sem-take   the same, waiting; print GRANTED <unix ns>, exit
//	rw-read    a shared hold of RWMutex NAME, print HELD, sleep
//	rw-write   an exclusive hold, waiting; print GRANTED <unix ns>, exit
//	event-wait wait for Event NAME; print WOKE <unix ns>, exit
//	cond-wait  lock Mutex NAME, wait on Cond NAME+"-cv"; print NOTIFIED <token>, unlock, exit
//	barrier    wait at Barrier(NAME, WWLY_E2E_VALUE); print INDEX <i>, exit
//	cycle      hold RLock NAME, print HELD, read a line from stdin, then acquire RLock
//	           WWLY_E2E_OTHER with deadlock detection; print DEADLOCK <ns> <msg> or GRANTED
//	rlock-hold hold RLock NAME as owner 1 (twice), print HELD, sleep
func rolePrim() error {
	c, err := dialEnv()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := context.Background()
	name := os.Getenv("WWLY_E2E_NAME")
	n, _ := strconv.ParseInt(os.Getenv("WWLY_E2E_N"), 10, 64)
	value, _ := strconv.ParseUint(os.Getenv("WWLY_E2E_VALUE"), 10, 32)
	switch what := os.Getenv("WWLY_E2E_PRIM"); what {
	case "sem-hold", "sem-take":
		if err := c.Semaphore(name, uint32(value)).Acquire(ctx, n); err != nil {
			return err
		}
		if what == "sem-take" {
			fmt.Printf("GRANTED %d\n", time.Now().UnixNano())
			return nil
		}
		return holdForever("HELD")
	case "rw-read":
		if _, err := c.RWMutex(name).RLockContext(ctx); err != nil {
			return err
		}
		return holdForever("HELD")
	case "rw-write":
		if _, err := c.RWMutex(name).LockContext(ctx); err != nil {
			return err
		}
		fmt.Printf("GRANTED %d\n", time.Now().UnixNano())
		return nil
	case "event-wait":
		if err := c.Event(name).Wait(ctx); err != nil {
			return err
		}
		fmt.Printf("WOKE %d\n", time.Now().UnixNano())
		return nil
	case "cond-wait":
		m := c.Mutex(name)
		if err := m.LockContext(ctx); err != nil {
			return err
		}
		if err := c.Cond(name+"-cv", m).Wait(ctx); err != nil {
			return err
		}
		fmt.Printf("NOTIFIED %d\n", m.Token())
		return m.UnlockContext(ctx)
	case "barrier":
		i, err := c.Barrier(name, int(value)).Wait(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("INDEX %d\n", i)
		return nil
	case "cycle":
		return roleCycle(ctx, c, name, os.Getenv("WWLY_E2E_OTHER"))
	case "rlock-hold":
		o := c.RLock(name).Owner(1)
		for range 2 {
			if err := o.Lock(ctx); err != nil {
				return err
			}
		}
		return holdForever("HELD")
	default:
		return fmt.Errorf("unknown WWLY_E2E_PRIM %q", what)
	}
}

// holdForever prints line and sleeps until the process is killed (bounded: a minute).
func holdForever(line string) error {
	fmt.Println(line)
	time.Sleep(time.Minute)
	return errors.New("not killed within a minute")
}

func roleCycle(ctx context.Context, c *client.Client, mine, other string) error {
	if _, err := c.RLock(mine, client.WithDeadlockDetection()).Acquire(ctx, 1); err != nil {
		return err
	}
	fmt.Println("HELD")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fmt.Errorf("reading the go line: %w", err)
	}
	start := time.Now()
	_, err := c.RLock(other, client.WithDeadlockDetection()).Acquire(ctx, 1)
	switch {
	case errors.Is(err, client.ErrDeadlock):
		fmt.Printf("DEADLOCK %d %s\n", time.Since(start).Nanoseconds(), err)
	case err != nil:
		return err
	default:
		fmt.Println("GRANTED")
	}
	return nil
}

// primCmd is a "prim" worker doing what against srv.
func primCmd(srv *serverProc, what, name string, env ...string) *procSpec {
	return &procSpec{role: "prim", env: append([]string{"WWLY_ADDR=" + srv.addr, "WWLY_E2E_PRIM=" + what, "WWLY_E2E_NAME=" + name}, env...)}
}

type procSpec struct {
	role string
	env  []string
}

func (s *procSpec) start(t *testing.T) *proc { return start(t, selfCmd(s.role, s.env...)) }

// waitWaiters polls STATUS until name has want waiters.
func waitWaiters(t *testing.T, c *client.Client, name string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.Status(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if len(info) == 1 && info[0].Waiters == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q: %+v, want %d waiters", name, info, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func kill(t *testing.T, p *proc) time.Time {
	t.Helper()
	at := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	return at
}

func grantedAt(t *testing.T, p *proc, prefix string) time.Time {
	t.Helper()
	f := strings.Fields(p.stdout.waitLine(t, prefix, 10*time.Second))
	ns, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatalf("bad %s line %v", prefix, f)
	}
	return time.Unix(0, ns)
}

// TestSemaphoreHolderDeath: permits held by a SIGKILLed process come back at once.
func TestSemaphoreHolderDeath(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	holder := primCmd(srv, "sem-hold", "pool", "WWLY_E2E_N=3", "WWLY_E2E_VALUE=4").start(t)
	holder.stdout.waitLine(t, "HELD", 10*time.Second)
	taker := primCmd(srv, "sem-take", "pool", "WWLY_E2E_N=2", "WWLY_E2E_VALUE=4").start(t)
	waitWaiters(t, dialT(t, srv.addr), "pool", 1)
	killedAt := kill(t, holder)
	d := grantedAt(t, taker, "GRANTED").Sub(killedAt)
	t.Logf("SIGKILL of the permit holder → 2 permits granted to another process in %v (loaded box)", d)
	if d > 2*time.Second {
		t.Errorf("permits came back after %v, want at once", d)
	}
	if code := taker.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("taker exit %d", code)
	}
}

// TestRWMutexHolderDeath: the shared holds of killed readers come back at once; the writer
// waiting behind them is granted when the last one dies.
func TestRWMutexHolderDeath(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	r1 := primCmd(srv, "rw-read", "table").start(t)
	r2 := primCmd(srv, "rw-read", "table").start(t)
	r1.stdout.waitLine(t, "HELD", 10*time.Second)
	r2.stdout.waitLine(t, "HELD", 10*time.Second)
	w := primCmd(srv, "rw-write", "table").start(t)
	obs := dialT(t, srv.addr)
	waitWaiters(t, obs, "table", 1)
	kill(t, r1)
	time.Sleep(50 * time.Millisecond)
	if strings.Contains(w.stdout.String(), "GRANTED") {
		t.Fatal("the writer was granted while a reader still held the lock")
	}
	killedAt := kill(t, r2)
	d := grantedAt(t, w, "GRANTED").Sub(killedAt)
	t.Logf("SIGKILL of the last reader → writer granted in %v (loaded box)", d)
	if code := w.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("writer exit %d", code)
	}
}

// TestEventWakesProcesses: one Set wakes every waiting process.
func TestEventWakesProcesses(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	const waiters = 8
	ps := make([]*proc, waiters)
	for i := range ps {
		ps[i] = primCmd(srv, "event-wait", "start-gun").start(t)
	}
	c := dialT(t, srv.addr)
	waitWaiters(t, c, "start-gun", waiters)
	setAt := time.Now()
	if err := c.Event("start-gun").Set(context.Background()); err != nil {
		t.Fatal(err)
	}
	var last time.Duration
	for i, p := range ps {
		d := grantedAt(t, p, "WOKE").Sub(setAt)
		last = max(last, d)
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("waiter %d exit %d", i, code)
		}
	}
	t.Logf("Set → last of %d processes woken in %v (loaded box; not the issue's benchmark)", waiters, last)
}

// TestCondAcrossProcesses: a process waiting on a Cond is woken by another's Notify and holds
// the Mutex again under a fresh token.
func TestCondAcrossProcesses(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	w := primCmd(srv, "cond-wait", "jobs").start(t)
	c := dialT(t, srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitWaiters(t, c, "jobs-cv", 1) // the waiter released jobs and waits on the condition
	m := c.Mutex("jobs")
	if err := m.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	mine := m.Token()
	if err := c.Cond("jobs-cv", m).Notify(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.UnlockContext(ctx); err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(w.stdout.waitLine(t, "NOTIFIED", 10*time.Second))
	if tok, _ := strconv.ParseUint(f[1], 10, 64); tok <= mine {
		t.Fatalf("waiter's token %d after the notify, want > %d", tok, mine)
	}
	if code := w.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("waiter exit %d", code)
	}
}

// TestBarrierAcrossProcesses: three processes meet; each gets a distinct arrival index.
func TestBarrierAcrossProcesses(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	const parties = 3
	seen := map[string]bool{}
	ps := make([]*proc, parties)
	for i := range ps {
		ps[i] = primCmd(srv, "barrier", "meet", "WWLY_E2E_VALUE="+strconv.Itoa(parties)).start(t)
	}
	for i, p := range ps {
		seen[strings.Fields(p.stdout.waitLine(t, "INDEX", 10*time.Second))[1]] = true
		if code := p.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("party %d exit %d", i, code)
		}
	}
	if !seen["0"] || !seen["1"] || !seen["2"] {
		t.Fatalf("arrival indexes %v, want 0, 1, 2", seen)
	}
}

// TestDeadlockTwoProcesses: two processes each hold one RLock and ask for the other's with
// detection; the second ask fails at once with DEADLOCK naming the cycle.
func TestDeadlockTwoProcesses(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	start2 := func(mine, other string) (*proc, *os.File) {
		cmd := selfCmd("prim", "WWLY_ADDR="+srv.addr, "WWLY_E2E_PRIM=cycle", "WWLY_E2E_NAME="+mine, "WWLY_E2E_OTHER="+other)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = r
		p := start(t, cmd)
		r.Close()
		t.Cleanup(func() { w.Close() })
		return p, w
	}
	p1, go1 := start2("x", "y")
	p2, go2 := start2("y", "x")
	p1.stdout.waitLine(t, "HELD", 10*time.Second)
	p2.stdout.waitLine(t, "HELD", 10*time.Second)
	fmt.Fprintln(go1, "go")
	waitWaiters(t, dialT(t, srv.addr), "y", 1)
	fmt.Fprintln(go2, "go")
	line := p2.stdout.waitLine(t, "DEADLOCK", 10*time.Second)
	f := strings.SplitN(line, " ", 3)
	ns, _ := strconv.ParseInt(f[1], 10, 64)
	if !strings.Contains(f[2], `waits for "x"`) || !strings.Contains(f[2], `waits for "y"`) {
		t.Fatalf("DEADLOCK message %q does not name the cycle", f[2])
	}
	t.Logf("DEADLOCK answered in %v (one round trip; loaded box): %s", time.Duration(ns), f[2])
	if code := p2.wait(t, 10*time.Second); code != 0 { // p2 exits, freeing y for p1
		t.Fatalf("p2 exit %d", code)
	}
	p1.stdout.waitLine(t, "GRANTED", 10*time.Second)
	if code := p1.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("p1 exit %d", code)
	}
}

// TestRLockMisuseAcrossProcesses: another process (or another owner) cannot release an RLock;
// the owner's death frees it at every depth.
func TestRLockMisuseAcrossProcesses(t *testing.T) {
	srv := &serverProc{}
	startServerProc(t, srv)
	holder := primCmd(srv, "rlock-hold", "cfg").start(t)
	holder.stdout.waitLine(t, "HELD", 10*time.Second)
	c := dialT(t, srv.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := c.RLock("cfg")
	for _, owner := range []uint64{1, 2} { // owner 1 of another connection is another owner
		if err := r.Release(ctx, owner); !errors.Is(err, client.ErrNotOwner) {
			t.Fatalf("release as owner %d of another process: %v, want ErrNotOwner", owner, err)
		}
	}
	if err := c.Semaphore("cfg", 1).Release(1); !errors.Is(err, client.ErrWrongKind) {
		t.Fatalf("semaphore release on an RLock's name: %v, want ErrWrongKind", err)
	}
	if _, ok, err := r.TryAcquire(ctx, 1); ok || err != nil {
		t.Fatalf("TryAcquire while held elsewhere: %v %v", ok, err)
	}
	kill(t, holder)
	if _, err := r.Acquire(ctx, 1); err != nil {
		t.Fatalf("acquire after the holder died (at depth 2): %v", err)
	}
}
