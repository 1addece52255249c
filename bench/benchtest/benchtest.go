// Package benchtest is the conformance suite every lock backend of package bench passes: mutual
// exclusion under concurrent clients, TryLock on a held lock, Lock timing out on a held lock,
// Unlock of an unheld lock, and rising fencing tokens when the backend has them.
//
// It drives real servers (whatever the backend's Start launches); it never mocks one.
package benchtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wwly/wwly/bench"
)

// Budget bounds the suite's loops: each contention phase runs until it has done Cycles lock
// cycles per client or Window has passed, whichever is first, so a slow backend (redsync's
// retry delays are 50–250 ms) keeps the suite short and a fast one still sees real contention.
type Budget struct {
	Clients int           // concurrent clients, each with its own bench.Client
	Cycles  int           // lock/unlock cycles per client
	Window  time.Duration // time bound of the contention phase
	// MinOps is the fewest cycles the contention phase must complete in all (a backend that
	// makes no progress fails).
	MinOps int
}

// DefaultBudget returns a fresh Budget sized for the race detector on a small, shared box.
func DefaultBudget() Budget {
	return Budget{Clients: 4, Cycles: 200, Window: 2 * time.Second, MinOps: 4}
}

// opTimeout bounds every single operation the suite makes that should not block.
const opTimeout = 10 * time.Second

// staleTimeout bounds a wait that may sit behind a stale claim: redsync and redislock cannot
// withdraw a SET that a ctx deadline interrupted mid-flight, so it blocks the name until its
// expiry (8 s for redsync's default, 10 s for redislock here). That is the libraries' behaviour.
const staleTimeout = 30 * time.Second

// Run starts b with opts, stops it at the end of the test, and checks it conforms. A backend
// whose Start fails with bench.ErrUnavailable is skipped with its reason. b must be a lock
// (Exclusive); use Smoke for the yardsticks.
func Run(t *testing.T, b bench.Backend, opts bench.StartOptions) {
	t.Helper()
	RunBudget(t, b, opts, DefaultBudget())
}

// RunBudget is Run with an explicit Budget.
func RunBudget(t *testing.T, b bench.Backend, opts bench.StartOptions, budget Budget) {
	t.Helper()
	if !b.Exclusive() {
		t.Fatalf("%s is not a lock (Exclusive() = false); use benchtest.Smoke", b.Name())
	}
	env := Start(t, b, opts)
	ctx := context.Background()

	t.Run("MutualExclusion", func(t *testing.T) { testExclusion(ctx, t, b, env, budget) })
	t.Run("TryLockHeld", func(t *testing.T) { testTryLockHeld(ctx, t, b, env) })
	t.Run("LockTimeout", func(t *testing.T) { testLockTimeout(ctx, t, b, env) })
	t.Run("UnlockNotHeld", func(t *testing.T) { testUnlockNotHeld(ctx, t, b, env) })
	t.Run("TimeoutsUnderContention", func(t *testing.T) { testTimeoutsUnderContention(ctx, t, b, env, budget) })
	if b.Tokens() {
		t.Run("TokensRise", func(t *testing.T) { testTokensRise(ctx, t, b, env) })
	}
}

// Start starts b for the test and registers its Stop with t.Cleanup; it skips the test when the
// backend is unavailable here. opts.Dir defaults to t.TempDir().
func Start(t testing.TB, b bench.Backend, opts bench.StartOptions) bench.Env {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.MaxWorkers == 0 {
		opts.MaxWorkers = 64
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := b.Start(ctx, opts)
	if errors.Is(err, bench.ErrUnavailable) {
		t.Skipf("%s: %v", b.Name(), err)
	}
	if err != nil {
		t.Fatalf("%s: Start: %v", b.Name(), err)
	}
	t.Cleanup(func() {
		if err := inst.Stop(); err != nil {
			t.Errorf("%s: Stop: %v", b.Name(), err)
		}
	})
	return inst.Env()
}

// connect returns a Client closed at the end of the test.
func connect(ctx context.Context, t testing.TB, b bench.Backend, env bench.Env) bench.Client {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	c, err := b.Connect(cctx, env)
	if err != nil {
		t.Fatalf("%s: Connect: %v", b.Name(), err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("%s: Close: %v", b.Name(), err)
		}
	})
	return c
}

func locker(t testing.TB, c bench.Client, name string) bench.Locker {
	t.Helper()
	l, err := c.Locker(name)
	if err != nil {
		t.Fatalf("Locker(%q): %v", name, err)
	}
	return l
}

// uniqueName gives each check its own lock name, so checks never see each other's leftovers.
func uniqueName(t testing.TB) string {
	return fmt.Sprintf("benchtest-%s-%d", t.Name(), time.Now().UnixNano())
}

func lockOrFail(ctx context.Context, t testing.TB, l bench.Locker) uint64 {
	t.Helper()
	lctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	tok, err := l.Lock(lctx)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return tok
}

func unlockOrFail(ctx context.Context, t testing.TB, l bench.Locker) {
	t.Helper()
	uctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := l.Unlock(uctx); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

// witness watches the critical sections of concurrent holders of one name: nobody may be
// inside with another, and the tokens recorded in hold order must rise. Safe for concurrent use.
type witness struct {
	inside     atomic.Int32
	violations atomic.Int64
	mu         sync.Mutex
	history    []uint64 // mu guards; tokens in hold order
}

// enter is called right after a Lock succeeded with token tok.
func (w *witness) enter(tok uint64) {
	if w.inside.Add(1) != 1 {
		w.violations.Add(1)
	}
	w.mu.Lock()
	w.history = append(w.history, tok)
	w.mu.Unlock()
}

// exit is called right before Unlock.
func (w *witness) exit() { w.inside.Add(-1) }

// check collects one result per goroutine from errc and reports overlaps and falling tokens.
func (w *witness) check(t *testing.T, b bench.Backend, errc <-chan error, goroutines int) {
	t.Helper()
	for range goroutines {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if v := w.violations.Load(); v != 0 {
		t.Errorf("%d holds overlapped another hold (mutual exclusion broken)", v)
	}
	if b.Tokens() {
		if err := CheckTokens(w.history); err != nil {
			t.Error(err)
		}
	}
}

// testExclusion runs Clients goroutines, each with its own Client, taking one name in turn. In
// the critical section each checks nobody else is inside and records its token; the recorded
// history must show rising tokens in the order the holds happened.
func testExclusion(ctx context.Context, t *testing.T, b bench.Backend, env bench.Env, budget Budget) {
	name := uniqueName(t)
	var (
		w   witness
		ops atomic.Int64
	)
	clients := make([]bench.Client, budget.Clients)
	for i := range clients {
		clients[i] = connect(ctx, t, b, env)
	}
	stop := time.Now().Add(budget.Window)
	errc := make(chan error, budget.Clients)
	var wg sync.WaitGroup
	for i := range clients {
		l := locker(t, clients[i], name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < budget.Cycles && time.Now().Before(stop); n++ {
				lctx, cancel := context.WithTimeout(ctx, opTimeout)
				tok, err := l.Lock(lctx)
				cancel()
				if err != nil {
					errc <- fmt.Errorf("Lock: %w", err)
					return
				}
				w.enter(tok)
				w.exit()
				if err := l.Unlock(ctx); err != nil {
					errc <- fmt.Errorf("Unlock: %w", err)
					return
				}
				ops.Add(1)
			}
			errc <- nil
		}()
	}
	wg.Wait()
	w.check(t, b, errc, len(clients))
	if n := ops.Load(); n < int64(budget.MinOps) {
		t.Errorf("only %d lock cycles in %v (want ≥ %d)", n, budget.Window, budget.MinOps)
	}
	t.Logf("%s: %d cycles by %d clients", b.Name(), ops.Load(), budget.Clients)
}

// testTimeoutsUnderContention mixes waiters that give up after a few milliseconds with waiters
// that do not, on one name, while holders hold briefly: the abandoned waits must never break
// exclusion, never leave the lock stuck, and never make tokens go backwards.
func testTimeoutsUnderContention(ctx context.Context, t *testing.T, b bench.Backend, env bench.Env, budget Budget) {
	name := uniqueName(t)
	var (
		w        witness
		held     atomic.Int64
		timeouts atomic.Int64
	)
	n := max(budget.Clients, 2)
	lockers := make([]bench.Locker, n)
	for i := range lockers {
		lockers[i] = locker(t, connect(ctx, t, b, env), name)
	}
	stop := time.Now().Add(budget.Window)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i, l := range lockers {
		impatient := i%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := 0; c < budget.Cycles && time.Now().Before(stop); c++ {
				wait := staleTimeout
				if impatient {
					wait = time.Duration(1+c%5) * time.Millisecond
				}
				lctx, cancel := context.WithTimeout(ctx, wait)
				tok, err := l.Lock(lctx)
				cancel()
				if err != nil {
					if impatient && errors.Is(err, context.DeadlineExceeded) {
						timeouts.Add(1)
						continue
					}
					errc <- fmt.Errorf("Lock: %w", err)
					return
				}
				w.enter(tok)
				time.Sleep(200 * time.Microsecond) // hold long enough for the impatient to give up
				w.exit()
				held.Add(1)
				if err := l.Unlock(ctx); err != nil {
					errc <- fmt.Errorf("Unlock: %w", err)
					return
				}
			}
			errc <- nil
		}()
	}
	wg.Wait()
	w.check(t, b, errc, len(lockers))
	if held.Load() == 0 {
		t.Errorf("no holds in %v", budget.Window)
	}
	t.Logf("%s: %d holds, %d timed-out waits", b.Name(), held.Load(), timeouts.Load())
	// Nothing is left stuck for good: a fresh client takes the lock.
	l := locker(t, connect(ctx, t, b, env), name)
	lctx, cancel := context.WithTimeout(ctx, staleTimeout)
	defer cancel()
	if _, err := l.Lock(lctx); err != nil {
		t.Fatalf("Lock after the contention: %v", err)
	}
	unlockOrFail(ctx, t, l)
}

// CheckTokens reports the first place a history of fencing tokens, in hold order, fails to rise
// strictly, or holds a zero token.
func CheckTokens(history []uint64) error {
	for i, tok := range history {
		if tok == 0 {
			return fmt.Errorf("hold %d: zero fencing token", i)
		}
		if i > 0 && tok <= history[i-1] {
			return fmt.Errorf("hold %d: token %d after %d: tokens must rise", i, tok, history[i-1])
		}
	}
	return nil
}

func testTryLockHeld(ctx context.Context, t *testing.T, b bench.Backend, env bench.Env) {
	name := uniqueName(t)
	a := locker(t, connect(ctx, t, b, env), name)
	o := locker(t, connect(ctx, t, b, env), name)
	tctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()

	lockOrFail(ctx, t, a)
	ok, _, err := o.TryLock(tctx)
	if err != nil {
		t.Fatalf("TryLock on a held lock: %v", err)
	}
	if ok {
		t.Fatal("TryLock on a held lock succeeded")
	}
	unlockOrFail(ctx, t, a)

	ok, tok, err := tryFree(tctx, o)
	if err != nil || !ok {
		t.Fatalf("TryLock on a free lock = %v, %v; want true", ok, err)
	}
	if b.Tokens() && tok == 0 {
		t.Error("TryLock returned a zero token")
	}
	// Now the other way round: a Lock must not pass a TryLock's hold.
	ok, _, err = a.TryLock(tctx)
	if err != nil || ok {
		t.Fatalf("TryLock while the other client holds = %v, %v; want false", ok, err)
	}
	unlockOrFail(ctx, t, o)
}

// testLockTimeout: a Lock with a short deadline on a held lock ends with the deadline, and the
// abandoned attempt leaves nothing behind: the lock passes on normally afterwards.
func testLockTimeout(ctx context.Context, t *testing.T, b bench.Backend, env bench.Env) {
	name := uniqueName(t)
	a := locker(t, connect(ctx, t, b, env), name)
	o := locker(t, connect(ctx, t, b, env), name)
	lockOrFail(ctx, t, a)

	const wait = 150 * time.Millisecond
	sctx, cancel := context.WithTimeout(ctx, wait)
	start := time.Now()
	_, err := o.Lock(sctx)
	elapsed := time.Since(start)
	cancel()
	if err == nil {
		t.Fatal("Lock on a held lock with a short deadline succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock timed out with %v; want it to wrap context.DeadlineExceeded", err)
	}
	if elapsed > wait+2*time.Second {
		t.Errorf("Lock with a %v deadline returned after %v", wait, elapsed)
	}
	if err := o.Unlock(ctx); !errors.Is(err, bench.ErrNotHeld) {
		t.Errorf("Unlock after a timed-out Lock = %v; want ErrNotHeld", err)
	}

	unlockOrFail(ctx, t, a)
	lockOrFail(ctx, t, o) // the timed-out waiter left no stale claim
	unlockOrFail(ctx, t, o)
	lockOrFail(ctx, t, a)
	unlockOrFail(ctx, t, a)
}

func testUnlockNotHeld(ctx context.Context, t *testing.T, b bench.Backend, env bench.Env) {
	name := uniqueName(t)
	a := locker(t, connect(ctx, t, b, env), name)
	o := locker(t, connect(ctx, t, b, env), name)
	if err := a.Unlock(ctx); !errors.Is(err, bench.ErrNotHeld) {
		t.Errorf("Unlock of a never-locked lock = %v; want ErrNotHeld", err)
	}
	lockOrFail(ctx, t, a)
	if err := o.Unlock(ctx); !errors.Is(err, bench.ErrNotHeld) {
		t.Errorf("Unlock by a client that does not hold it = %v; want ErrNotHeld", err)
	}
	unlockOrFail(ctx, t, a)
	if err := a.Unlock(ctx); !errors.Is(err, bench.ErrNotHeld) {
		t.Errorf("second Unlock = %v; want ErrNotHeld", err)
	}
	// The lock is really free: another client takes it at once.
	tctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if ok, _, err := tryFree(tctx, o); err != nil || !ok {
		t.Fatalf("TryLock after release = %v, %v; want true", ok, err)
	}
	unlockOrFail(ctx, t, o)
}

// testTokensRise: tokens rise across holds by one locker, by another client, and by TryLock.
func testTokensRise(ctx context.Context, t *testing.T, b bench.Backend, env bench.Env) {
	name := uniqueName(t)
	a := locker(t, connect(ctx, t, b, env), name)
	o := locker(t, connect(ctx, t, b, env), name)
	var history []uint64
	for i := range 6 {
		l := a
		if i%2 == 1 {
			l = o
		}
		if i == 4 {
			ok, tok, err := tryFree(ctx, l)
			if err != nil || !ok {
				t.Fatalf("TryLock on a free lock = %v, %v", ok, err)
			}
			history = append(history, tok)
		} else {
			history = append(history, lockOrFail(ctx, t, l))
		}
		unlockOrFail(ctx, t, l)
	}
	if err := CheckTokens(history); err != nil {
		t.Errorf("%v (history %v)", err, history)
	}
}

// Smoke checks a yardstick that is not a lock (tcp-echo, none): it starts, connects, and its
// Lock/TryLock/Unlock calls succeed quickly from several clients at once.
func Smoke(t *testing.T, b bench.Backend, opts bench.StartOptions) {
	t.Helper()
	env := Start(t, b, opts)
	ctx := context.Background()
	const clients, cycles = 3, 50
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for range clients {
		l := locker(t, connect(ctx, t, b, env), "smoke")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range cycles {
				lctx, cancel := context.WithTimeout(ctx, opTimeout)
				_, err := l.Lock(lctx)
				if err == nil {
					err = l.Unlock(lctx)
				}
				cancel()
				if err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	wg.Wait()
	for range clients {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	l := locker(t, connect(ctx, t, b, env), "smoke")
	if ok, _, err := l.TryLock(tctx); err != nil || !ok {
		t.Errorf("TryLock = %v, %v; want true", ok, err)
	}
}

// tryFree is TryLock on a lock that another locker has just unlocked. That Unlock may still be in
// flight (wwly pipelines releases), so a busy answer is retried a bounded number of times.
func tryFree(ctx context.Context, l bench.Locker) (ok bool, tok uint64, err error) {
	for try := 0; try < 100; try++ {
		tctx, cancel := context.WithTimeout(ctx, opTimeout)
		ok, tok, err = l.TryLock(tctx)
		cancel()
		if err != nil || ok {
			return ok, tok, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false, 0, nil
}
