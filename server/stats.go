package server

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// Server statistics, for monitoring (the metrics package exposes them to Prometheus).
//
// Cost on the hot path: the counters are plain integers in each loop's state, incremented only
// by that loop's goroutine (no atomics, no shared cache lines). A reader never touches them
// directly: Stats runs a closure on every loop (gnet's EventLoop.Execute) that copies them, so a
// scrape costs each loop one wake-up and the request path pays a few plain adds. The counting
// code lives in stats_count.go; building with the tag wwly_nostats swaps in empty functions, which
// is how the cost of counting is measured (docs/operations.md).

// ErrStats is wrapped by Stats errors.
var ErrStats = errors.New("server: stats unavailable")

// Reasons a connection is cut by the server, besides an ERROR code.
const (
	cutSlowConsumer = iota
	cutHeartbeat
	numCuts
)

// maxCodes bounds the error-code table; codes beyond it are counted under wire.CodeInternal.
const maxCodes = 64

// loopStats are one loop's counters. Owned by the loop's goroutine; read only through Stats.
type loopStats struct {
	accepted      uint64 // connections accepted (refused ones included)
	grants        uint64
	releases      uint64 // RELEASE answered OK
	renewals      uint64 // RENEW answered OK
	timeouts      uint64 // acquires failed with TIMEOUT (waits that ran out and busy try-locks)
	cancellations uint64 // waits ended by CANCEL
	leasesLost    uint64 // LOST sent: a holder's lease ran out
	sessionsGone  uint64 // sessions closed after HELLO (their locks released)
	errors        [maxCodes]uint64
	cuts          [numCuts]uint64
	wait          hist // ACQUIRE arrival -> grant, engine clock
}

// grantWaits remembers when each queued acquire of one shard arrived, so its grant can be timed.
// Owned like the shard's engine. Inner maps stay allocated while their session lives, so a
// session that queues again and again allocates nothing in steady state.
type grantWaits struct {
	bySess map[engine.SessionID]map[uint64]int64
}

func (w *grantWaits) queued(sid engine.SessionID, req uint64, now int64) {
	if w.bySess == nil {
		w.bySess = make(map[engine.SessionID]map[uint64]int64)
	}
	m := w.bySess[sid]
	if m == nil {
		m = make(map[uint64]int64, 1)
		w.bySess[sid] = m
	}
	m[req] = now
}

// take returns and forgets the arrival time of (sid, req).
func (w *grantWaits) take(sid engine.SessionID, req uint64) (int64, bool) {
	m := w.bySess[sid]
	if m == nil {
		return 0, false
	}
	t, ok := m[req]
	if ok {
		delete(m, req)
	}
	return t, ok
}

func (w *grantWaits) drop(sid engine.SessionID) { delete(w.bySess, sid) }

func (w *grantWaits) len() int {
	n := 0
	for _, m := range w.bySess {
		n += len(m)
	}
	return n
}

// hist is a latency histogram with power-of-two nanosecond buckets: bucket i counts values v
// with 2^(i-1) < v <= 2^i (bucket 0: v <= 1 ns). Finding a bucket is one bit-length instruction.
type hist struct {
	counts [64]uint64
	sumNS  uint64
}

func (h *hist) observe(ns int64) {
	if ns < 0 {
		ns = 0
	}
	i := 0
	if ns > 1 {
		i = bits.Len64(uint64(ns) - 1)
	}
	h.counts[i]++
	h.sumNS += uint64(ns)
}

func (h *hist) add(o *hist) {
	for i := range h.counts {
		h.counts[i] += o.counts[i]
	}
	h.sumNS += o.sumNS
}

// Histogram is a snapshot of a latency histogram.
type Histogram struct {
	Count uint64
	Sum   time.Duration
	// Bounds are the buckets' inclusive upper bounds, ascending; Cumulative[i] counts the values
	// ≤ Bounds[i] (Prometheus' "le"). Values above the last bound count only in Count.
	Bounds     []time.Duration
	Cumulative []uint64
}

// Exposed buckets: 1.024 µs (2^10 ns) to 68.7 s (2^36 ns). Finer ones are folded into the first.
const (
	histLo = 10
	histHi = 36
)

func (h *hist) snapshot() Histogram {
	out := Histogram{Sum: time.Duration(h.sumNS)}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if i >= histLo && i <= histHi {
			out.Bounds = append(out.Bounds, time.Duration(1)<<i)
			out.Cumulative = append(out.Cumulative, cum)
		}
	}
	out.Count = cum
	return out
}

// Stats is a snapshot of the server's state and counters since Start. Counters only rise.
type Stats struct {
	Up bool // listening and not shutting down

	Connections int // open client connections, HELLO done or not
	Sessions    int // connections past HELLO
	Locks       int // live locks: names with a holder or waiters
	Waiters     int // queued acquires, over all names (queue depth)

	ConnectionsAccepted uint64
	SessionsClosed      uint64
	Grants              uint64
	Releases            uint64
	Renewals            uint64
	Timeouts            uint64
	Cancellations       uint64
	LeasesLost          uint64
	SlowConsumerCuts    uint64 // connections closed because they stopped reading
	HeartbeatCuts       uint64 // connections closed because they went silent

	// Errors counts ERROR frames sent, by code (codes never sent are absent).
	Errors map[wire.Code]uint64

	// GrantWait is the time from an ACQUIRE's arrival at the server to its grant, on the server's
	// clock: 0 for a free lock, the queueing time (a handoff) for a busy one.
	GrantWait Histogram
}

// loopPart is what one loop contributes to a Stats snapshot.
type loopPart struct {
	st                   loopStats
	conns, sessions      int
	locks, waiters       int
	pendingWaits, shards int
}

// Stats takes a snapshot. It runs a short closure on every event loop and waits for them, up to
// ctx; it returns an error wrapping ErrStats (and Up false) when the server is not running or a
// loop does not answer. Safe for concurrent use, after Start has returned.
func (s *Server) Stats(ctx context.Context) (Stats, error) {
	if s.loops == nil {
		return Stats{}, fmt.Errorf("%w: %w", ErrStats, ErrNotStarted)
	}
	select {
	case <-s.runDone:
		return Stats{}, fmt.Errorf("%w: event loops have stopped", ErrStats)
	default:
	}
	parts := make(chan loopPart, len(s.loops))
	for _, l := range s.loops {
		b := l.el.Load()
		if b == nil {
			return Stats{}, fmt.Errorf("%w: loop %d not bound", ErrStats, l.idx)
		}
		l := l
		err := b.el.Execute(ctx, gnet.RunnableFunc(func(context.Context) error {
			parts <- l.statsPart()
			return nil
		}))
		if err != nil {
			return Stats{}, fmt.Errorf("%w: loop %d: %w", ErrStats, l.idx, err)
		}
	}
	var sum loopPart
	out := Stats{Errors: make(map[wire.Code]uint64)}
	for range s.loops {
		select {
		case p := <-parts:
			sum.add(&p)
		case <-ctx.Done():
			return Stats{}, fmt.Errorf("%w: %w", ErrStats, ctx.Err())
		}
	}
	st := &sum.st
	out.Up = !s.closing.Load()
	out.Connections, out.Sessions, out.Locks, out.Waiters = sum.conns, sum.sessions, sum.locks, sum.waiters
	out.ConnectionsAccepted, out.SessionsClosed = st.accepted, st.sessionsGone
	out.Grants, out.Releases, out.Renewals = st.grants, st.releases, st.renewals
	out.Timeouts, out.Cancellations, out.LeasesLost = st.timeouts, st.cancellations, st.leasesLost
	out.SlowConsumerCuts, out.HeartbeatCuts = st.cuts[cutSlowConsumer], st.cuts[cutHeartbeat]
	for code, n := range st.errors {
		if n > 0 {
			out.Errors[wire.Code(code)] = n
		}
	}
	out.GrantWait = st.wait.snapshot()
	return out, nil
}

// statsPart copies this loop's counters and gauges. Runs on the loop's goroutine.
func (l *loop) statsPart() loopPart {
	p := loopPart{st: l.st, conns: len(l.all), sessions: len(l.sessions)}
	for _, sh := range l.srv.shards {
		if sh.owner != l {
			continue
		}
		sh.access.lock()
		es := sh.eng.Stats()
		p.locks += es.Locks
		p.waiters += es.Waiters
		p.pendingWaits += sh.waits.len()
		p.shards++
		sh.access.unlock()
	}
	return p
}

func (p *loopPart) add(o *loopPart) {
	a, b := &p.st, &o.st
	a.accepted += b.accepted
	a.grants += b.grants
	a.releases += b.releases
	a.renewals += b.renewals
	a.timeouts += b.timeouts
	a.cancellations += b.cancellations
	a.leasesLost += b.leasesLost
	a.sessionsGone += b.sessionsGone
	for i := range a.errors {
		a.errors[i] += b.errors[i]
	}
	for i := range a.cuts {
		a.cuts[i] += b.cuts[i]
	}
	a.wait.add(&b.wait)
	p.conns += o.conns
	p.sessions += o.sessions
	p.locks += o.locks
	p.waiters += o.waiters
	p.pendingWaits += o.pendingWaits
	p.shards += o.shards
}
