package client

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func ctxT(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

func TestRLockOwners(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	ra, rb := a.RLock("r"), b.RLock("r")
	o1, o2 := ra.NewOwner(), ra.NewOwner()
	if err := o1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	tok := o1.Token()
	if err := o1.Lock(ctx); err != nil || o1.Token() != tok {
		t.Fatalf("re-entry: %v, token %d want %d", err, o1.Token(), tok)
	}
	if ok, err := o2.TryLock(ctx); ok || err != nil {
		t.Fatalf("another owner of the same connection: TryLock %v %v, want false", ok, err)
	}
	if err := o2.Unlock(ctx); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("release by another owner: %v, want ErrNotOwner", err)
	}
	if err := rb.Release(ctx, o1.ID()); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("release by another connection: %v, want ErrNotOwner", err)
	}
	got := make(chan error, 1)
	go func() { _, err := rb.Acquire(ctx, 1); got <- err }()
	for range 2 {
		if err := o1.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-got; err != nil {
		t.Fatalf("b after a's last release: %v", err)
	}
	if err := a.Semaphore("r", 1).Acquire(ctx, 1); !errors.Is(err, ErrWrongKind) {
		t.Fatalf("semaphore on an rlock's name: %v, want ErrWrongKind", err)
	}
}

func TestSemaphoreReturnsPermitsOnClose(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	sa, sb := a.Semaphore("sem", 4), b.Semaphore("sem", 4)
	if err := sa.Acquire(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if sb.TryAcquire(2) {
		t.Fatal("TryAcquire(2) with 1 free succeeded")
	}
	got := make(chan error, 1)
	go func() { got <- sb.Acquire(ctx, 4) }()
	time.Sleep(20 * time.Millisecond)
	a.Close() // its 3 permits come back at once
	if err := <-got; err != nil {
		t.Fatalf("Acquire(4) after the holder closed: %v", err)
	}
	st, err := b.Status(ctx, "sem")
	if err != nil || len(st) != 1 || st[0].Kind != "SEMAPHORE" || st[0].Holders != 1 || st[0].Value != 0 {
		t.Fatalf("Status of the semaphore: %+v, %v; want SEMAPHORE, 1 holder, 0 free", st, err)
	}
	if err := sb.Release(4); err != nil {
		t.Fatal(err)
	}
	short := ctxT(t, 30*time.Millisecond)
	if err := b.Semaphore("sem", 4).Acquire(short, 5); !errors.Is(err, ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire(5) of 4: %v, want a timeout", err)
	}
	if err := sb.Acquire(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Acquire(0): %v, want ErrInvalid", err)
	}
	bs := b.Semaphore("bsem", 1, WithBounded())
	if err := bs.Release(1); !errors.Is(err, ErrOverRelease) {
		t.Fatalf("bounded release past the bound: %v, want ErrOverRelease", err)
	}
}

func TestRWMutexReadersShareWriterWaits(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	ra, rb := a.RWMutex("rw"), b.RWMutex("rw")
	ra.RLock()
	ra.RLocker().Lock() // a second shared hold
	if ok, _ := rb.TryRLock(ctx); !ok {
		t.Fatal("a reader could not join readers")
	}
	rb.RUnlock()
	if ok, _ := rb.TryLock(ctx); ok {
		t.Fatal("a writer got in with readers")
	}
	done := make(chan uint64, 1)
	go func() {
		tok, err := rb.LockContext(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- tok
	}()
	ra.RUnlock()
	ra.RLocker().Unlock()
	if tok := <-done; tok == 0 {
		t.Fatal("writer got no token")
	}
	rb.Unlock()
	defer func() {
		if recover() == nil {
			t.Fatal("Unlock of an unlocked RWMutex did not panic")
		}
	}()
	rb.Unlock()
}

func TestEventWakesAll(t *testing.T) {
	addr := startServer(t, nil)
	ctx := ctxT(t, 5*time.Second)
	setter := dial(t, addr)
	ev, err := setter.OpenEvent(ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	if set, err := ev.IsSet(ctx); set || err != nil {
		t.Fatalf("IsSet before Set: %v %v", set, err)
	}
	const waiters = 8
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	for range waiters {
		c := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.OpenEvent(ctx, "go")
			if err == nil {
				err = e.Wait(ctx)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	eventually(t, 5*time.Second, "every waiter queued", func() bool {
		st, err := setter.Status(ctx, "go")
		return err == nil && len(st) == 1 && st[0].Waiters == waiters
	})
	if err := ev.Set(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ev.Clear(ctx); err != nil { // waiters woken by Set have succeeded all the same
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("waiter: %v", err)
	}
	short := ctxT(t, 20*time.Millisecond)
	if err := ev.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a cleared event: %v, want DeadlineExceeded", err)
	}
	if err := ev.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBarrierIndexesAndBroken(t *testing.T) {
	addr := startServer(t, nil)
	ctx := ctxT(t, 5*time.Second)
	const parties = 3
	idx := make(chan int, parties)
	var wg sync.WaitGroup
	for range parties {
		c := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			i, err := c.Barrier("b", parties).Wait(ctx)
			if err != nil {
				t.Error(err)
			}
			idx <- i
		}()
	}
	wg.Wait()
	close(idx)
	seen := map[int]bool{}
	for i := range idx {
		seen[i] = true
	}
	if len(seen) != parties {
		t.Fatalf("arrival indexes %v, want 0..%d", seen, parties-1)
	}
	c := dial(t, addr)
	b := c.Barrier("b", parties)
	got := make(chan error, 1)
	go func() { _, err := b.Wait(ctx); got <- err }()
	eventually(t, 5*time.Second, "the wait queued", func() bool {
		st, err := c.Status(ctx, "b")
		return err == nil && len(st) == 1 && st[0].Waiters == 1
	})
	if err := dial(t, addr).Barrier("b", parties).Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; !errors.Is(err, ErrBroken) {
		t.Fatalf("wait at an aborted barrier: %v, want ErrBroken", err)
	}
}

func TestCondMutex(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	ma, mb := a.Mutex("m"), b.Mutex("m")
	ca, cb := a.Cond("cv", ma), b.Cond("cv", mb)
	if err := cb.Notify(ctx, 1); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Notify without the lock: %v, want ErrNotOwner", err)
	}
	ma.Lock()
	old := ma.Token()
	waited := make(chan error, 1)
	go func() { waited <- ca.Wait(ctx) }()
	mb.Lock() // granted once a's Wait released m
	if err := cb.NotifyAll(ctx); err != nil {
		t.Fatal(err)
	}
	mb.Unlock()
	if err := <-waited; err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if tok := ma.Token(); tok <= old {
		t.Fatalf("token after Wait %d, want > %d", tok, old)
	}
	short := ctxT(t, 30*time.Millisecond)
	if err := ca.Wait(short); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait without notify: %v, want ErrTimeout", err)
	}
	select {
	case <-ma.Lost():
		t.Fatal("the Mutex is lost after a timed-out Wait; want held")
	default:
	}
	if err := ma.UnlockContext(ctx); err != nil {
		t.Fatalf("Unlock after a timed-out Wait: %v", err)
	}
}

func TestCondRLock(t *testing.T) {
	addr := startServer(t, nil)
	a := dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	o := a.RLock("rl").NewOwner()
	for range 2 {
		if err := o.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cv := a.Cond("cv2", o)
	short := ctxT(t, 20*time.Millisecond)
	if err := cv.Wait(short); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Wait: %v, want ErrTimeout", err)
	}
	for range 2 { // held again at depth 2
		if err := o.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Unlock(ctx); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("third Unlock: %v, want ErrNotOwner", err)
	}
}

func TestDeadlockDetection(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	xa, ya := a.RLock("x", WithDeadlockDetection()), a.RLock("y", WithDeadlockDetection())
	xb, yb := b.RLock("x", WithDeadlockDetection()), b.RLock("y", WithDeadlockDetection())
	if _, err := xa.Acquire(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := yb.Acquire(ctx, 1); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { _, err := ya.Acquire(ctx, 1); waiting <- err }()
	eventually(t, 2*time.Second, "a waits for y", func() bool {
		st, _ := a.Status(ctx, "y")
		return len(st) == 1 && st[0].Waiters == 1
	})
	_, err := xb.Acquire(ctx, 1)
	if !errors.Is(err, ErrDeadlock) {
		t.Fatalf("closing the cycle: %v, want ErrDeadlock", err)
	}
	t.Log(err)
	if err := yb.Release(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; err != nil {
		t.Fatal(err)
	}
}

func TestOpCancelGivesBack(t *testing.T) {
	addr := startServer(t, nil)
	a, b := dial(t, addr), dial(t, addr)
	ctx := ctxT(t, 5*time.Second)
	sa := a.Semaphore("s1", 1)
	if err := sa.Acquire(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	got := make(chan error, 1)
	go func() { got <- b.Semaphore("s1", 1).Acquire(cctx, 1) }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire: %v", err)
	}
	if err := sa.Release(1); err != nil {
		t.Fatal(err)
	}
	if !sa.TryAcquire(1) {
		t.Fatal("the permit did not come back after the cancelled wait")
	}
}
