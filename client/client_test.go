package client

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wwly/wwly/server"
)

func TestLockUnlockHandoff(t *testing.T) {
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			addr := startServer(t, nil)
			a := dial(t, addr, WithIOMode(mode))
			b := dial(t, addr, WithIOMode(mode))
			ma, mb := a.Mutex("job"), b.Mutex("job")

			ma.Lock()
			tokA := ma.Token()
			if tokA == 0 {
				t.Fatal("Token() = 0 while held")
			}
			got := make(chan uint64, 1)
			go func() {
				mb.Lock()
				got <- mb.Token()
			}()
			select {
			case <-got:
				t.Fatal("second client got the lock while the first held it")
			case <-time.After(50 * time.Millisecond):
			}
			ma.Unlock()
			if ma.Token() != 0 {
				t.Errorf("Token() after Unlock = %d, want 0", ma.Token())
			}
			select {
			case tokB := <-got:
				if tokB <= tokA {
					t.Errorf("token did not rise: %d then %d", tokA, tokB)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("waiter not granted after release")
			}
			if err := mb.UnlockContext(context.Background()); err != nil {
				t.Fatalf("UnlockContext: %v", err)
			}
		})
	}
}

func TestTryLock(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ma, mb := a.Mutex("t"), b.Mutex("t")
	if !ma.TryLock() {
		t.Fatal("TryLock of a free lock failed")
	}
	if mb.TryLock() {
		t.Fatal("TryLock of a held lock succeeded")
	}
	if ma.TryLock() {
		t.Fatal("TryLock through the holding Mutex succeeded")
	}
	if ok, err := mb.TryLockContext(context.Background()); ok || err != nil {
		t.Fatalf("TryLockContext of a held lock = %v, %v; want false, nil", ok, err)
	}
	if ok, err := b.Mutex("").TryLockContext(context.Background()); ok || !errors.Is(err, ErrNameLength) {
		t.Fatalf("TryLockContext of a bad name = %v, %v; want false, ErrNameLength", ok, err)
	}
	ma.Unlock()
	// The release is pipelined: the server may see b's try before a's release only if they
	// travel on different connections, so poll.
	eventually(t, 5*time.Second, "TryLock after release", mb.TryLock)
	mb.Unlock()
}

func TestLockTimeout(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ma, mb := a.Mutex("slow"), b.Mutex("slow")
	ma.Lock()
	defer ma.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := mb.LockContext(ctx)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockContext = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), `"slow"`) {
		t.Errorf("error %q does not name the lock", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	if mb.Token() != 0 {
		t.Error("Token() != 0 after a failed lock")
	}
}

func TestLockCancel(t *testing.T) {
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			addr := startServer(t, nil)
			a, b, c := dial(t, addr, WithIOMode(mode)), dial(t, addr, WithIOMode(mode)), dial(t, addr, WithIOMode(mode))
			ma, mb, mc := a.Mutex("c"), b.Mutex("c"), c.Mutex("c")
			ma.Lock()
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() { errc <- mb.LockContext(ctx) }()
			time.Sleep(20 * time.Millisecond)
			cancel()
			if err := <-errc; !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
				t.Fatalf("LockContext = %v, want ErrCancelled and Canceled", err)
			}
			ma.Unlock()
			// b's withdrawn wait must not hold the lock: c gets it.
			eventually(t, 5*time.Second, "TryLock after cancelled waiter", mc.TryLock)
			mc.Unlock()
		})
	}
}

// TestCancelCrossingGrant races the release of the holder against the cancel of the waiter, so
// that GRANTED and CANCEL cross on the wire in some rounds. Whatever the outcome, the lock must
// end free: a crossing grant is released by the client.
func TestCancelCrossingGrant(t *testing.T) {
	addr := startServer(t, nil)
	a, b, c := dial(t, addr), dial(t, addr), dial(t, addr)
	ma, mb, mc := a.Mutex("x"), b.Mutex("x"), c.Mutex("x")
	granted := 0
	const rounds = 60
	for i := range rounds {
		ma.Lock()
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- mb.LockContext(ctx) }()
		time.Sleep(time.Duration(i%5) * 100 * time.Microsecond)
		go ma.Unlock()
		time.Sleep(time.Duration(i%7) * 30 * time.Microsecond)
		cancel()
		if err := <-errc; err == nil {
			granted++
			mb.Unlock()
		} else if !errors.Is(err, ErrCancelled) {
			t.Fatalf("round %d: LockContext = %v", i, err)
		}
		eventually(t, 5*time.Second, fmt.Sprintf("round %d: lock free again", i), mc.TryLock)
		mc.Unlock()
	}
	t.Logf("%d of %d rounds were granted before the cancel", granted, rounds)
}

func TestUnlockNotHeld(t *testing.T) {
	addr := startServer(t, nil)
	m := dial(t, addr).Mutex("n")
	if err := m.UnlockContext(context.Background()); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("UnlockContext of unheld = %v, want ErrNotHeld", err)
	}
	if err := m.Release(); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Release of unheld = %v, want ErrNotHeld", err)
	}
	m.Lock()
	if err := m.Release(); err != nil {
		t.Fatalf("Release of held = %v", err)
	}
	if !m.TryLock() { // the pipelined release went out before this acquire
		t.Fatal("TryLock after Release failed")
	}
	if err := m.Release(); err != nil {
		t.Fatalf("Release of held = %v", err)
	}
	defer func() {
		r := recover()
		if s, _ := r.(string); !strings.Contains(s, "Unlock of unlocked Mutex") {
			t.Fatalf("Unlock of unheld: recovered %v, want the documented panic", r)
		}
	}()
	m.Unlock()
}

func TestLeaseRenewKeepsLock(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	// The TTL leaves room for scheduling stalls of a loaded, race-instrumented test box: the
	// client declares a lease lost itself when no renewal is acknowledged in time.
	ma, mb := a.Mutex("lease", WithTTL(time.Second)), b.Mutex("lease")
	ma.Lock()
	lost := ma.Lost()
	time.Sleep(2500 * time.Millisecond) // two and a half leases
	notClosed(t, lost, "Lost() of a renewed lease")
	if mb.TryLock() {
		t.Fatal("another client took a lock whose lease is being renewed")
	}
	if err := ma.UnlockContext(context.Background()); err != nil {
		t.Fatalf("UnlockContext: %v", err)
	}
}

func TestLeaseLossClosesLost(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ma, mb := a.Mutex("lease", WithTTL(100*time.Millisecond)), b.Mutex("lease")
	ma.noRenew = true // the holder "stalls": its lease must run out
	ma.Lock()
	tok := ma.Token()
	waitClosed(t, ma.Lost(), 5*time.Second, "Lost() after the lease ran out")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := mb.LockContext(ctx); err != nil {
		t.Fatalf("next client after lease loss: %v", err)
	}
	if mb.Token() <= tok {
		t.Errorf("token did not rise after lease loss: %d then %d", tok, mb.Token())
	}
	if err := ma.UnlockContext(context.Background()); !errors.Is(err, ErrLost) {
		t.Errorf("UnlockContext of a lost hold = %v, want ErrLost", err)
	}
	mb.Unlock()
}

func TestConnectionDeathClosesLost(t *testing.T) {
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			addr := startServer(t, nil)
			a, b := dial(t, addr, WithIOMode(mode)), dial(t, addr)
			ma, mb := a.Mutex("d"), b.Mutex("d")
			ma.Lock()
			a.t.Close() // the network goes away under a live Client
			waitClosed(t, ma.Lost(), 5*time.Second, "Lost() after connection death")
			waitClosed(t, a.Done(), 5*time.Second, "Done()")
			if !errors.Is(a.Err(), ErrClosed) {
				t.Errorf("Err() = %v, want ErrClosed", a.Err())
			}
			// The server released the dead session's lock.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := mb.LockContext(ctx); err != nil {
				t.Fatalf("lock after holder's connection died: %v", err)
			}
			mb.Unlock()
			ma.Unlock() // a lost hold unlocks quietly
			if err := ma.LockContext(context.Background()); !errors.Is(err, ErrClosed) {
				t.Errorf("LockContext on a dead Client = %v, want ErrClosed", err)
			}
			// Lock cannot fail loudly: it comes back locked-but-lost, and Unlock stays balanced.
			m2 := a.Mutex("d2")
			m2.Lock()
			waitClosed(t, m2.Lost(), time.Second, "Lost() after a failed Lock")
			if m2.Token() != 0 {
				t.Errorf("Token() after a failed Lock = %d, want 0", m2.Token())
			}
			m2.Unlock()
		})
	}
}

func TestServerShutdownClosesLost(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, s.Addr())
	m := c.Mutex("s")
	m.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	waitClosed(t, m.Lost(), 5*time.Second, "Lost() after server shutdown")
	waitClosed(t, c.Done(), 5*time.Second, "Done()")
	if err := c.Err(); !errors.Is(err, ErrShutdown) && !errors.Is(err, ErrClosed) {
		t.Errorf("Err() = %v, want ErrShutdown or ErrClosed", err)
	}
}

func TestAuth(t *testing.T) {
	addr := startServer(t, func(c *server.Config) { c.AuthToken = []byte("s3cret") })
	for _, tc := range []struct {
		name string
		opts []Option
		ok   bool
	}{
		{"none", nil, false},
		{"wrong", []Option{WithAuthToken([]byte("guess"))}, false},
		{"right", []Option{WithAuthToken([]byte("s3cret"))}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, addr, tc.opts...)
			if tc.ok {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				defer c.Close()
				m := c.Mutex("a")
				if !m.TryLock() {
					t.Fatal("authenticated client cannot lock")
				}
				m.Unlock()
				return
			}
			if err == nil {
				// A server may answer the HELLO lazily; then the first request must fail.
				defer c.Close()
				err = c.Mutex("a").LockContext(ctx)
			}
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("got %v, want ErrAuth", err)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ma := a.Mutex("st")
	ma.Lock()
	defer ma.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = b.Mutex("st").LockContext(ctx) }()
	defer cancel()
	var info []LockInfo
	eventually(t, 5*time.Second, "one waiter in status", func() bool {
		var err error
		info, err = b.Status(context.Background(), "st")
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		return len(info) == 1 && info[0].Waiters == 1
	})
	if got := info[0]; got.Name != "st" || got.Holder != a.Session() || got.Token != ma.Token() {
		t.Errorf("Status = %+v, want holder %d token %d", got, a.Session(), ma.Token())
	}
	all, err := a.Status(context.Background())
	if err != nil || len(all) != 1 {
		t.Errorf("Status() of all = %v, %v; want one lock", all, err)
	}
}

func TestNameLength(t *testing.T) {
	addr := startServer(t, nil)
	c := dial(t, addr)
	for _, name := range []string{"", strings.Repeat("n", 300)} {
		if err := c.Mutex(name).LockContext(context.Background()); !errors.Is(err, ErrNameLength) {
			t.Errorf("LockContext(%d-byte name) = %v, want ErrNameLength", len(name), err)
		}
	}
}

// TestConcurrentUse drives one shared Client, a shared Mutex and per-goroutine Mutexes from
// many goroutines, checking mutual exclusion with atomics (the race detector cannot see the
// ordering the server provides).
func TestConcurrentUse(t *testing.T) {
	addr := startServer(t, nil)
	clients := []*Client{dial(t, addr), dial(t, addr, WithIOMode(IONetConn))}
	shared := clients[0].Mutex("conc")
	var inside, total atomic.Int64
	var wg sync.WaitGroup
	const goroutines, iters = 8, 40
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := shared
			if g%2 == 1 {
				m = clients[g%len(clients)].Mutex("conc")
			}
			for range iters {
				if err := m.LockContext(context.Background()); err != nil {
					t.Errorf("LockContext: %v", err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				total.Add(1)
				inside.Add(-1)
				m.Unlock()
			}
		}()
	}
	wg.Wait()
	if total.Load() != goroutines*iters {
		t.Errorf("total = %d, want %d", total.Load(), goroutines*iters)
	}
}

// TestCloseLeavesNoGoroutines: Close stops the reader, the flusher, the heartbeat and renewers.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	addr := startServer(t, nil)
	before := runtime.NumGoroutine()
	for _, mode := range ioModes {
		c, err := Dial(context.Background(), addr, WithIOMode(mode))
		if err != nil {
			t.Fatal(err)
		}
		m := c.Mutex("leak", WithTTL(time.Second))
		m.Lock()
		go func() { _ = c.Mutex("leak").LockContext(context.Background()) }() // left waiting
		c.Close()
		waitClosed(t, m.Lost(), time.Second, "Lost() after Close")
	}
	eventually(t, 5*time.Second, "goroutines back to the count before Dial", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
