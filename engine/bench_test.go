package engine

import (
	"strconv"
	"testing"
	"time"
)

func newBenchEngine(b *testing.B) *Engine {
	b.Helper()
	e, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// cpuClock measures the process CPU time of a benchmark's timed loop.
type cpuClock struct {
	start time.Duration
	ok    bool
}

func startCPU(b *testing.B) cpuClock {
	b.ResetTimer()
	t, ok := processCPU()
	return cpuClock{t, ok}
}

// reportOps adds ops/s (one op = one iteration: an acquire+release pair or one handoff),
// calls/s (engine calls, callsPerIter per op) and cpu-ns/op, the process CPU time per op,
// which stays meaningful when other processes share the cores.
func reportOps(b *testing.B, c cpuClock, callsPerIter int) {
	b.StopTimer()
	if end, ok := processCPU(); ok && c.ok {
		b.ReportMetric(float64(end-c.start)/float64(b.N), "cpu-ns/op")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(b.N*callsPerIter)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkUncontended: one session acquires and releases one name; an iteration is the pair.
func BenchmarkUncontended(b *testing.B) {
	e := newBenchEngine(b)
	name := []byte("bench/uncontended")
	b.ReportAllocs()
	var now int64
	clk := startCPU(b)
	for i := range b.N {
		now++
		e.Acquire(now, 1, uint64(i), name, -1, 0)
		tok := e.Events()[0].Token
		e.Release(now, 1, uint64(i), name, tok)
		e.ClearEvents()
	}
	reportOps(b, clk, 2)
}

// BenchmarkUncontendedLease is BenchmarkUncontended with a lease, so each pair arms and disarms a timer.
func BenchmarkUncontendedLease(b *testing.B) {
	e := newBenchEngine(b)
	name := []byte("bench/uncontended")
	b.ReportAllocs()
	var now int64
	clk := startCPU(b)
	for i := range b.N {
		now++
		e.Acquire(now, 1, uint64(i), name, time.Second, time.Second)
		tok := e.Events()[0].Token
		e.Release(now, 1, uint64(i), name, tok)
		e.ClearEvents()
	}
	reportOps(b, clk, 2)
}

// BenchmarkHandoff: N sessions queue on one name; each iteration releases the holder, which
// grants the next waiter, and the released session queues again at the tail.
func BenchmarkHandoff(b *testing.B) {
	for _, n := range []int{2, 64, 1024} {
		b.Run("sessions="+strconv.Itoa(n), func(b *testing.B) {
			e := newBenchEngine(b)
			name := []byte("bench/handoff")
			var now int64
			for s := range n {
				e.Acquire(now, SessionID(s), 0, name, time.Second, 0)
			}
			holder, tok := e.Events()[0].Session, e.Events()[0].Token
			e.ClearEvents()
			req := uint64(1)
			b.ReportAllocs()
			clk := startCPU(b)
			for range b.N {
				now++
				e.Release(now, holder, req, name, tok)
				e.Acquire(now, holder, req, name, time.Second, 0)
				g := e.Events()[1] // Done, Granted, then our re-queue emits nothing
				holder, tok = g.Session, g.Token
				e.ClearEvents()
				req++
			}
			reportOps(b, clk, 2)
		})
	}
}

// BenchmarkReleaseAcquire: the pipelined release+acquire of a holder with 63 others queued,
// under each handoff policy. Under fifo every call hands over; under barge:N the holder keeps
// the lock N times, then hands over. 0 allocs/op either way.
func BenchmarkReleaseAcquire(b *testing.B) {
	for _, h := range []Handoff{HandoffFIFO, {Barge: 4}, {Barge: 64}} {
		b.Run("handoff="+h.String(), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Handoff = h
			e, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			name := []byte("bench/barge")
			var now int64
			for s := range 64 {
				e.Acquire(now, SessionID(s), 0, name, time.Second, 0)
			}
			holder, tok := e.Events()[0].Session, e.Events()[0].Token
			e.ClearEvents()
			req := uint64(1)
			b.ReportAllocs()
			for range b.N {
				now++
				e.ReleaseAcquire(now, holder, req, name, tok, req+1, time.Second, 0)
				g := e.Events()[1] // Done, then Granted to the releaser or to the next waiter
				holder, tok = g.Session, g.Token
				e.ClearEvents()
				req += 2
			}
		})
	}
}

// BenchmarkManyNames: every iteration uses a name never seen before, so a name's state must be
// recycled rather than kept: allocs/op stays 0 and Stats returns to zero.
func BenchmarkManyNames(b *testing.B) {
	e := newBenchEngine(b)
	name := []byte("bench/name/00000000000000000000")
	prefix := len("bench/name/")
	b.ReportAllocs()
	var now int64
	clk := startCPU(b)
	for i := range b.N {
		now++
		strconv.AppendUint(name[:prefix], uint64(i), 10)
		e.Acquire(now, SessionID(i%64), uint64(i), name, -1, 0)
		tok := e.Events()[0].Token
		e.Release(now, SessionID(i%64), uint64(i), name, tok)
		e.ClearEvents()
	}
	reportOps(b, clk, 2)
	if st := e.Stats(); st != (Stats{}) {
		b.Fatalf("state left behind: %+v", st)
	}
}

// BenchmarkKinds: one session acquires and releases a name of each kind beyond the mutex; an
// iteration is the pair. allocs/op must stay 0.
func BenchmarkKinds(b *testing.B) {
	name := []byte("bench/kinds")
	cases := []struct {
		name string
		op   Op
	}{
		{"rlock", Op{Prim: PrimRLock, Owner: 1}},
		{"semaphore", Op{Prim: PrimSemaphore, Value: 4, N: 1}},
		{"bounded", Op{Prim: PrimBoundedSemaphore, Value: 4, N: 1}},
		{"rw-shared", Op{Prim: PrimRWMutex, Shared: true}},
		{"rw-exclusive", Op{Prim: PrimRWMutex}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			e := newBenchEngine(b)
			op := c.op
			op.Name, op.Wait = name, -1
			b.ReportAllocs()
			var now int64
			clk := startCPU(b)
			for i := range b.N {
				now++
				e.AcquireKind(now, 1, uint64(i), op)
				op.Token = e.Events()[0].Token
				e.ReleaseKind(now, 1, uint64(i), op)
				e.ClearEvents()
			}
			reportOps(b, clk, 2)
		})
	}
}

// BenchmarkSemaphoreHandoff: 64 sessions contend for a Semaphore(4); each iteration releases
// one holder's permit, which grants the oldest waiter, and the releaser queues again.
func BenchmarkSemaphoreHandoff(b *testing.B) {
	e := newBenchEngine(b)
	op := Op{Prim: PrimSemaphore, Name: []byte("bench/sem"), Value: 4, N: 1, Wait: time.Second}
	var now int64
	var holders []SessionID
	for s := range 64 {
		e.AcquireKind(now, SessionID(s), 0, op)
	}
	for _, ev := range e.Events() {
		holders = append(holders, ev.Session)
	}
	e.ClearEvents()
	req := uint64(1)
	b.ReportAllocs()
	clk := startCPU(b)
	for i := range b.N {
		now++
		s := holders[i%len(holders)]
		e.ReleaseKind(now, s, req, op)
		e.AcquireKind(now, s, req, op)
		holders[i%len(holders)] = e.Events()[1].Session // Done, Granted
		e.ClearEvents()
		req++
	}
	reportOps(b, clk, 2)
}

// BenchmarkEventBroadcast: 64 sessions wait on an Event; an iteration sets it (waking all 64
// in one call), clears it and queues the 64 waits again.
func BenchmarkEventBroadcast(b *testing.B) {
	e := newBenchEngine(b)
	op := Op{Prim: PrimEvent, Name: []byte("bench/event"), Wait: -1}
	const waiters = 64
	e.Open(0, 1000, 1, op)
	var now int64
	req := uint64(1)
	wait := func() {
		for s := range waiters {
			e.AcquireKind(now, SessionID(s), req, op)
		}
		req++
	}
	wait()
	e.ClearEvents()
	b.ReportAllocs()
	clk := startCPU(b)
	for range b.N {
		now++
		e.Signal(now, 1000, req, ActSet, op)
		if n := len(e.Events()); n != waiters+1 {
			b.Fatalf("%d events, want %d", n, waiters+1)
		}
		e.Signal(now, 1000, req, ActClear, op)
		wait()
		e.ClearEvents()
	}
	reportOps(b, clk, 2+waiters)
}

// BenchmarkBarrier: 8 sessions meet at a Barrier(8); an iteration is one round (8 arrivals).
func BenchmarkBarrier(b *testing.B) {
	e := newBenchEngine(b)
	op := Op{Prim: PrimBarrier, Name: []byte("bench/barrier"), Value: 8, Wait: -1}
	b.ReportAllocs()
	var now int64
	clk := startCPU(b)
	for i := range b.N {
		now++
		for s := range SessionID(8) {
			e.AcquireKind(now, s, uint64(i), op)
		}
		if n := len(e.Events()); n != 8 {
			b.Fatalf("%d events, want 8", n)
		}
		e.ClearEvents()
	}
	reportOps(b, clk, 8)
}

// BenchmarkCondition: a consumer waits on a Condition bound to a Mutex, a producer takes the
// mutex, notifies and releases, and the consumer (holding the mutex again) releases it; an
// iteration is that whole exchange (5 engine calls).
func BenchmarkCondition(b *testing.B) {
	e := newBenchEngine(b)
	m := []byte("bench/mutex")
	c := Op{Prim: PrimCondition, Name: []byte("bench/cond"), Lock: m, Wait: -1}
	b.ReportAllocs()
	var now int64
	clk := startCPU(b)
	for i := range b.N {
		now++
		req := uint64(i)
		e.Acquire(now, 1, req, m, -1, 0)
		c.Token = e.Events()[0].Token
		e.AcquireKind(now, 1, req, c) // releases m, waits
		e.Acquire(now, 2, req, m, -1, 0)
		p := c
		p.Token = e.Events()[1].Token
		e.Signal(now, 2, req, ActNotify, p)
		e.Release(now, 2, req, m, p.Token) // Done, then the consumer's Granted
		evs := e.Events()
		e.Release(now, 1, req+1, m, evs[len(evs)-1].Token)
		e.ClearEvents()
	}
	reportOps(b, clk, 5)
	if st := e.Stats(); st != (Stats{}) {
		b.Fatalf("state left behind: %+v", st)
	}
}
