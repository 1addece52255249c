package bench_test

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

// startFor starts b for a test (skipped with the reason when its server is not installed, as
// the conformance suite does) and stops it in Cleanup.
func startFor(t *testing.T, b bench.Backend, opts bench.StartOptions) bench.Env {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = memDir(t)
	}
	opts.MaxWorkers = max(opts.MaxWorkers, 8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := b.Start(ctx, opts)
	if errors.Is(err, bench.ErrUnavailable) {
		t.Skipf("%s: %v", b.Name(), err)
	}
	if err != nil {
		t.Fatalf("%s: start: %v", b.Name(), err)
	}
	t.Cleanup(func() {
		if err := inst.Stop(); err != nil {
			t.Errorf("%s: stop: %v", b.Name(), err)
		}
	})
	return inst.Env()
}

func connectFor(t *testing.T, b bench.Backend, env bench.Env) bench.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := b.Connect(ctx, env)
	if err != nil {
		t.Fatalf("%s: connect: %v", b.Name(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// eventSuite: waiters on separate clients all wake on one Set, a waiter that comes after the
// Set returns at once, and after Clear a wait times out; two rounds on the same Events.
func eventSuite(t *testing.T, b bench.Backend, opts bench.StartOptions) {
	if err := bench.Supports(b, bench.WorkloadFanout); err != nil {
		t.Fatal(err)
	}
	env := startFor(t, b, opts)
	const waiters = 4
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setter, ok := connectFor(t, b, env).(bench.Broadcaster)
	if !ok {
		t.Fatalf("%s: client is no Broadcaster", b.Name())
	}
	se, err := setter.Event(ctx, "ev")
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]bench.Event, waiters)
	for i := range evs {
		if evs[i], err = connectFor(t, b, env).(bench.Broadcaster).Event(ctx, "ev"); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 {
		var woke atomic.Int32
		var wg sync.WaitGroup
		for _, e := range evs {
			wg.Go(func() {
				if err := e.Wait(ctx); err != nil {
					t.Errorf("round %d: wait: %v", round, err)
					return
				}
				woke.Add(1)
			})
		}
		time.Sleep(100 * time.Millisecond) // let the waits reach the backend; a late one still wakes
		if n := woke.Load(); n != 0 {
			t.Fatalf("round %d: %d waiters woke before the set", round, n)
		}
		if err := se.Set(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if n := woke.Load(); n != waiters {
			t.Fatalf("round %d: %d of %d waiters woke", round, n, waiters)
		}
		if err := evs[0].Wait(ctx); err != nil { // set already: at once
			t.Fatalf("round %d: wait on a set event: %v", round, err)
		}
		if err := se.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		short, scancel := context.WithTimeout(ctx, 150*time.Millisecond)
		err := evs[1].Wait(short)
		scancel()
		if err == nil {
			t.Fatalf("round %d: wait on a cleared event returned nil", round)
		}
	}
}

func TestEvents(t *testing.T) {
	for _, name := range []string{"futex-bcast", "redis-pubsub", "etcd-watch", "wwly"} {
		t.Run(name, func(t *testing.T) {
			var opts bench.StartOptions
			if name == "wwly" {
				if testing.Short() {
					t.Skip("builds the wwly binary; skipped in -short")
				}
				opts.Binary = buildWwly(t)
			}
			eventSuite(t, lookup(t, name), opts)
		})
	}
}

func TestSupports(t *testing.T) {
	tests := []struct {
		backend, workload string
		ok                bool
	}{
		{"wwly", "", true},
		{"wwly", bench.WorkloadFanout, true},
		{"wwly", bench.WorkloadRW, true},
		{"wwly", bench.WorkloadSemaphore, true},
		{"flock", bench.WorkloadMutex, true},
		{"flock", bench.WorkloadFanout, false},
		{"flock", bench.WorkloadRW, true},
		{"futex-bcast", bench.WorkloadFanout, true},
		{"futex-bcast", bench.WorkloadMutex, false},
		{"redis-pubsub", bench.WorkloadRW, false},
		{"etcd-watch", bench.WorkloadFanout, true},
	}
	for _, tt := range tests {
		err := bench.Supports(lookup(t, tt.backend), tt.workload)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, bench.ErrUnsupported)) {
			t.Errorf("Supports(%s, %q) = %v; want ok=%v", tt.backend, tt.workload, err, tt.ok)
		}
	}
}

// TestWwlyPrimitives: readers of the RWMutex overlap, a writer waits for them; the semaphore
// admits its permits and no more.
func TestWwlyPrimitives(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wwly binary; skipped in -short")
	}
	b := lookup(t, "wwly")
	env := startFor(t, b, bench.StartOptions{Binary: buildWwly(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, c := connectFor(t, b, env), connectFor(t, b, env)
	ra, err := a.(bench.RWLocker).RWLock("rw")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := c.(bench.RWLocker).RWLock("rw")
	if err := ra.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rc.RLock(ctx); err != nil { // a second reader while the first holds
		t.Fatal(err)
	}
	short, scancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if _, err := ra.Lock(short); err == nil {
		t.Fatal("exclusive lock granted while two readers hold")
	}
	scancel()
	_ = ra.RUnlock(ctx)
	_ = rc.RUnlock(ctx)
	if _, err := rc.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	_ = rc.Unlock(ctx)

	const permits = 2
	sa, _ := a.(bench.Semaphorer).Semaphore("sem", permits)
	sc, _ := c.(bench.Semaphorer).Semaphore("sem", permits)
	for range permits {
		if err := sa.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	short, scancel = context.WithTimeout(ctx, 200*time.Millisecond)
	defer scancel()
	if err := sc.Acquire(short); err == nil {
		t.Fatalf("permit %d of %d granted", permits+1, permits)
	}
	if err := sa.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sc.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
}

func ExampleSupports() {
	b, _ := bench.Lookup("futex-bcast")
	fmt.Println(bench.Supports(b, bench.WorkloadFanout))
	fmt.Println(errors.Is(bench.Supports(b, bench.WorkloadMutex), bench.ErrUnsupported))
	// Output:
	// <nil>
	// true
}
