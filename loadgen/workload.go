package loadgen

// Workloads other than the exclusive mutex (runfile.Workload*): the worker side of rw and
// semaphore here, fanout in fanout.go. They reuse the mutex loop's histograms and reports
// (loop.allocate, flushInterval, final), so the coordinator merges their cells as it does any.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/runfile"
)

// Workload names, re-exported for the harness's callers.
const (
	WorkloadMutex     = runfile.WorkloadMutex
	WorkloadFanout    = runfile.WorkloadFanout
	WorkloadRW        = runfile.WorkloadRW
	WorkloadSemaphore = runfile.WorkloadSemaphore
)

// ErrWorkload marks a workload a worker cannot run (its backend does not serve it).
var ErrWorkload = errors.New("loadgen: workload")

// WorkSpec is a cell's workload and its parameters; it travels in CellSpec and WorkerConfig.
// The zero value is the mutex workload.
type WorkSpec struct {
	Workload     string  `json:"workload,omitempty"`
	ReadFraction float64 `json:"read_fraction,omitempty"`
	Permits      int     `json:"permits,omitempty"`
	Rounds       int     `json:"rounds,omitempty"`
	// Board is the fanout round board's file (fanout.go), made by the coordinator.
	Board string `json:"board,omitempty"`
}

// Other reports whether w is a workload other than the mutex (runWorkload's business).
func (w WorkSpec) Other() bool { return w.Workload != "" && w.Workload != WorkloadMutex }

// WorkSpecOf is the workload of every cell of scenario stage sc, defaults applied.
func WorkSpecOf(sc *Scenario) WorkSpec {
	w := WorkSpec{Workload: runfile.WorkloadOf(sc.Workload)}
	switch w.Workload {
	case WorkloadRW:
		w.ReadFraction = sc.EffReadFraction()
	case WorkloadSemaphore:
		w.Permits = sc.EffPermits()
	case WorkloadFanout:
		w.Rounds = sc.EffRounds()
	}
	return w
}

// describe records the workload in the cell (nothing for the mutex, as before workloads).
func (w WorkSpec) describe(c *Cell) {
	if !w.Other() {
		return
	}
	c.Workload, c.ReadFraction, c.Permits = w.Workload, w.ReadFraction, w.Permits
}

// runWorkload is runCell for a workload other than the mutex: the same READY, barrier and
// reports around another loop body.
func runWorkload(ctx context.Context, cfg WorkerConfig, cl bench.Client, retries int, enc *json.Encoder) error {
	w, err := OpenWitness(cfg.Shm)
	if err != nil {
		return err
	}
	defer w.Close()
	l := &loop{cfg: cfg, w: w, enc: enc}
	var (
		body    func(context.Context) error
		cleanup func()
	)
	switch cfg.Work.Workload {
	case WorkloadRW:
		body, err = l.rwBody(cl)
	case WorkloadSemaphore:
		body, err = l.semBody(cl)
	case WorkloadFanout:
		body, cleanup, err = l.fanoutBody(ctx, cl)
	default:
		err = fmt.Errorf("%w: unknown workload %q", ErrWorkload, cfg.Work.Workload)
	}
	if err != nil {
		return err
	}
	if cleanup != nil {
		defer cleanup()
	}
	if err := l.ready(ctx, retries); err != nil {
		return err
	}
	if err := body(ctx); err != nil {
		return err
	}
	return l.final()
}

// op is one acquire/release cycle of a lock-like workload: take acquires (shared or not) and
// returns the token (0 for none); give releases the same kind.
type op struct {
	take func(ctx context.Context, shared bool) (uint64, error)
	give func(ctx context.Context, shared bool) error
}

func (l *loop) rwBody(cl bench.Client) (func(context.Context) error, error) {
	rl, ok := cl.(bench.RWLocker)
	if !ok {
		return nil, fmt.Errorf("%w: %s client is no RWLocker", ErrWorkload, l.cfg.Backend)
	}
	lk, err := rl.RWLock(l.cfg.Names[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	o := op{
		take: func(ctx context.Context, shared bool) (uint64, error) {
			if shared {
				return 0, lk.RLock(ctx)
			}
			return lk.Lock(ctx)
		},
		give: func(ctx context.Context, shared bool) error {
			if shared {
				return lk.RUnlock(ctx)
			}
			return lk.Unlock(ctx)
		},
	}
	frac := l.cfg.Work.ReadFraction
	return func(ctx context.Context) error { return l.runOps(ctx, o, frac, 0) }, nil
}

func (l *loop) semBody(cl bench.Client) (func(context.Context) error, error) {
	sr, ok := cl.(bench.Semaphorer)
	if !ok {
		return nil, fmt.Errorf("%w: %s client is no Semaphorer", ErrWorkload, l.cfg.Backend)
	}
	permits := l.cfg.Work.Permits
	s, err := sr.Semaphore(l.cfg.Names[0], permits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	o := op{
		take: func(ctx context.Context, _ bool) (uint64, error) { return 0, s.Acquire(ctx) },
		give: func(ctx context.Context, _ bool) error { return s.Release(ctx) },
	}
	return func(ctx context.Context) error { return l.runOps(ctx, o, 1, permits) }, nil
}

// runOps is the closed loop of rw and semaphore cells on the cell's first name: take (shared
// with probability sharedFrac), the checked hold, give; acquire latency recorded as the mutex
// loop records it. permits > 0 makes every hold a counted one (a semaphore's).
func (l *loop) runOps(ctx context.Context, o op, sharedFrac float64, permits int) error {
	w, closeWindow := l.openWindow(ctx)
	defer closeWindow()
	measureAt, end, interval := w.measureAt, w.end, w.interval
	lockCtx, relCtx, rng := w.lockCtx, w.unlockCtx, w.rng
	for lockCtx.Err() == nil {
		shared := rng.Float64() < sharedFrac
		t0 := time.Now()
		tok, err := o.take(lockCtx, shared)
		if err != nil {
			if lockCtx.Err() != nil || !time.Now().Before(end) {
				break // the window ended while waiting
			}
			l.noteErr(err)
			sleepCtx(lockCtx, time.Millisecond)
			continue
		}
		t1 := time.Now()
		l.checkedHold(tok, shared, permits)
		err = o.give(relCtx, shared)
		t2 := time.Now()
		l.totalOps++
		if err != nil {
			l.noteErr(err)
		}
		if t1.Before(measureAt) || !t1.Before(end) {
			continue
		}
		wait := t1.Sub(t0).Nanoseconds()
		l.ops++
		Record(l.acquire, wait)
		Record(l.holdRel, t2.Sub(t1).Nanoseconds())
		Record(l.cycle, t2.Sub(t0).Nanoseconds())
		l.maxWait = max(l.maxWait, wait)
		l.intervals.record(int(t1.Sub(measureAt)/interval), wait)
	}
	return nil
}

// checkedHold is the critical section of rw and semaphore ops on witness slot 0. The occupancy
// word counts shared holders in its low bits and exclusive ones in units of writerUnit: a
// shared holder must find no writer, an exclusive one must find nobody, a counted one at most
// permits holders. Shared and counted holds count themselves in the balance atomically (they
// overlap by design); an exclusive hold does the lost-update probe's plain read, hold, write,
// which a reader or writer inside at the same time would break.
func (l *loop) checkedHold(tok uint64, shared bool, permits int) {
	w := l.w
	occ := w.occupancy(0)
	switch {
	case permits > 0:
		if atomic.AddInt32(occ, 1) > int32(permits) {
			l.violation()
		}
		hold(l.cfg.Hold)
		atomic.AddInt64(w.balance(0), 1)
		atomic.AddInt32(occ, -1)
	case shared:
		if atomic.AddInt32(occ, 1) >= writerUnit {
			l.violation()
		}
		hold(l.cfg.Hold)
		atomic.AddInt64(w.balance(0), 1)
		atomic.AddInt32(occ, -1)
	default:
		if atomic.AddInt32(occ, writerUnit) != writerUnit {
			l.violation()
		}
		if l.cfg.Tokens && !w.CheckToken(0, tok) {
			l.viol++
		}
		v := w.BalanceRead(0)
		hold(l.cfg.Hold)
		w.BalanceWrite(0, v+1)
		atomic.AddInt32(occ, -writerUnit)
	}
}

// writerUnit is an exclusive holder's weight in the occupancy word: above any reader count.
const writerUnit = 1 << 20

func (l *loop) violation() {
	l.viol++
	atomic.AddInt64(l.w.witnessViol(), 1)
}
