package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wwly/wwly/bench"
)

// Lookup finds a backend by name (bench.Lookup in the real binary, a test double's own table in
// tests).
type Lookup func(name string) (bench.Backend, error)

// ErrWorker marks a worker that could not do its job (bad config, backend failed to connect).
var ErrWorker = errors.New("loadgen: worker")

// unlockTimeout bounds one Unlock so a dead server cannot hang a worker past the coordinator's
// grace period unnoticed.
const unlockTimeout = 10 * time.Second

// RunWorker is the body of `wwly worker`: it reads a config line from in, connects, says ready
// on out, waits at the start barrier (see Witness.Release), runs warm-up and the measured window,
// and reports. Then it reads the next config line and runs that cell too, on the same connection
// (the coordinator reuses workers across cells with the same backend and worker count). It
// returns nil when in closes between cells, an error when in closes during a cell (the
// coordinator gave up) or on a setup error, which it also reports on out as an "error" message.
func RunWorker(ctx context.Context, in io.Reader, out io.Writer, lookup Lookup) (err error) {
	enc := json.NewEncoder(out)
	defer func() {
		if err != nil {
			_ = enc.Encode(Message{Type: MsgError, Err: err.Error()})
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// stdin closing means the coordinator is done with us, or gone: cancel whatever runs.
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		defer cancel()
		rd := bufio.NewReaderSize(in, 64<<10)
		for {
			line, err := readLine(rd)
			if err != nil {
				return
			}
			select {
			case lines <- append([]byte(nil), line...):
			case <-ctx.Done():
				return
			}
		}
	}()

	var (
		cl      bench.Client
		backend string
	)
	defer func() {
		if cl != nil {
			_ = cl.Close()
		}
	}()
	for cell := 0; ; cell++ {
		line, ok := <-lines
		if !ok {
			if cell == 0 {
				return fmt.Errorf("%w: stdin closed before a config arrived", ErrWorker)
			}
			return nil
		}
		cfg, err := DecodeConfig(line)
		if err != nil {
			return err
		}
		retries := 0
		if cl == nil {
			b, err := lookup(cfg.Backend)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrWorker, err)
			}
			if cl, retries, err = connect(ctx, b, cfg); err != nil {
				return err
			}
			backend = cfg.Backend
		} else if cfg.Backend != backend {
			return fmt.Errorf("%w: connected to %s, asked to run %s", ErrWorker, backend, cfg.Backend)
		}
		if err := runCell(ctx, cfg, cl, retries, enc); err != nil {
			return err
		}
	}
}

// runCell runs one cell on an open client: checker, lockers, READY, barrier, loop, final.
func runCell(ctx context.Context, cfg WorkerConfig, cl bench.Client, retries int, enc *json.Encoder) error {
	if cfg.Work.Other() {
		return runWorkload(ctx, cfg, cl, retries, enc) // workload.go
	}
	w, err := OpenWitness(cfg.Shm)
	if err != nil {
		return err
	}
	defer w.Close()
	if w.Slots() < len(cfg.Names) {
		return fmt.Errorf("%w: %d names but the checker has %d slots", ErrWorker, len(cfg.Names), w.Slots())
	}
	lockers := make([]bench.Locker, len(cfg.Names))
	for i, n := range cfg.Names {
		if lockers[i], err = cl.Locker(n); err != nil {
			return fmt.Errorf("%w: locker %q: %w", ErrWorker, n, err)
		}
	}
	l := &loop{cfg: cfg, w: w, lockers: lockers, enc: enc}
	if err := l.ready(ctx, retries); err != nil {
		return err
	}
	return l.run(ctx)
}

// ready allocates the loop's histograms (before READY, so the memory sampled at the barrier
// includes them), says READY and waits at the start barrier: a futex in the checker file, where
// the coordinator publishes one wall-clock instant and wakes everyone at once; each worker then
// sleeps until that instant. Every workload passes through it.
func (l *loop) ready(ctx context.Context, retries int) error {
	l.allocate()
	if err := l.enc.Encode(Message{Type: MsgReady, Retries: retries}); err != nil {
		return fmt.Errorf("%w: say ready: %w", ErrWorker, err)
	}
	startAt, err := l.w.WaitStart(ctx)
	if err != nil {
		return fmt.Errorf("%w: stopped at the start barrier: %w", ErrWorker, err)
	}
	if d := time.Until(startAt); d > 0 {
		sleepCtx(ctx, d)
		if ctx.Err() != nil {
			return fmt.Errorf("%w: stopped before start", ErrWorker)
		}
	}
	return nil
}

// connect retries Connect with backoff until cfg.ConnectTimeout: with thousands of processes
// starting on two cores, a server can be too starved to finish a handshake within a client's own
// short timeout, and one slow handshake must not fail a whole cell. Retries are reported.
func connect(ctx context.Context, b bench.Backend, cfg WorkerConfig) (bench.Client, int, error) {
	limit := cfg.ConnectTimeout
	if limit <= 0 {
		limit = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// This process runs one locking goroutine: backends may wait in raw syscalls.
	env := make(bench.Env, len(cfg.Env)+1)
	maps.Copy(env, cfg.Env)
	env[bench.EnvOneWaiter] = "1"
	backoff := 50 * time.Millisecond
	for retries := 0; ; retries++ {
		cl, err := b.Connect(ctx, env)
		if err == nil {
			return cl, retries, nil
		}
		if errors.Is(err, bench.ErrUnavailable) || ctx.Err() != nil {
			return nil, retries, fmt.Errorf("%w: connect %s (%d retries): %w", ErrWorker, cfg.Backend, retries, err)
		}
		sleepCtx(ctx, backoff)
		backoff = min(2*backoff, time.Second)
	}
}

func readLine(rd *bufio.Reader) ([]byte, error) {
	line, err := rd.ReadSlice('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, rd.Size())
		}
		return nil, err
	}
	return line, nil
}

// loop is one worker's measurement state. It is used by one goroutine.
type loop struct {
	cfg     WorkerConfig
	w       *Witness
	lockers []bench.Locker
	enc     *json.Encoder
	encMu   sync.Mutex

	acquire, uncorrected, holdRel, cycle *hdrhistogram.Histogram
	intervals                            *intervalRec

	ops, totalOps, errs, viol int64
	maxWait                   int64
	started                   int64
	firstErr                  string
}

func (l *loop) allocate() {
	l.acquire, l.holdRel, l.cycle = NewHistogram(), NewHistogram(), NewHistogram()
	l.intervals = new(intervalRec)
	if l.cfg.Rate > 0 {
		l.uncorrected = NewHistogram()
	}
}

// window is a cell's timing as one worker sees it: its start, when measuring begins and ends, the
// interval of its latency log, the contexts that bound acquires (the window) and releases (a
// grace past it), and the worker's seeded random source. Every workload's loop starts from one.
type window struct {
	base, measureAt, end time.Time
	interval             time.Duration
	lockCtx, unlockCtx   context.Context
	rng                  *rand.Rand
}

// openWindow starts the cell's clock now; the returned func releases the contexts.
func (l *loop) openWindow(ctx context.Context) (window, func()) {
	cfg := l.cfg
	w := window{base: time.Now(), interval: cfg.Interval}
	l.started = w.base.UnixNano()
	w.measureAt = w.base.Add(cfg.Warmup)
	w.end = w.measureAt.Add(cfg.Duration)
	if w.interval <= 0 {
		w.interval = time.Second
	}
	var cancel, ucancel context.CancelFunc
	w.lockCtx, cancel = context.WithDeadline(ctx, w.end)
	// One context bounds every release of the cell: a per-op context.WithTimeout would arm and
	// stop a runtime timer on every op, for nothing while the server answers.
	w.unlockCtx, ucancel = context.WithDeadline(context.Background(), w.end.Add(unlockTimeout))
	w.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(cfg.Index)))
	return w, func() { cancel(); ucancel() }
}

func (l *loop) run(ctx context.Context) error {
	cfg := l.cfg
	w, closeWindow := l.openWindow(ctx)
	defer closeWindow()
	base, measureAt, end, interval := w.base, w.measureAt, w.end, w.interval
	lockCtx, unlockCtx, rng := w.lockCtx, w.unlockCtx, w.rng
	pacer := Pacer{Rate: cfg.Rate}

	for i := int64(0); ; i++ {
		if lockCtx.Err() != nil {
			break
		}
		end = l.windowEnd(end)
		if !time.Now().Before(end) {
			break // an ops-sized window ended early (the coordinator published the end)
		}
		var intended time.Time
		if cfg.Rate > 0 {
			off := pacer.Intended(i)
			intended = base.Add(off)
			if !intended.Before(end) {
				break
			}
			if wait := pacer.Pace(time.Since(base), i); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-lockCtx.Done():
					t.Stop()
				}
				if lockCtx.Err() != nil {
					break
				}
			}
		}
		slot := rng.IntN(len(l.lockers))
		t0 := time.Now()
		if cfg.Rate == 0 {
			intended = t0
		}
		tok, err := l.lockers[slot].Lock(lockCtx)
		if err != nil {
			if lockCtx.Err() != nil || !time.Now().Before(end) {
				// The window ended while waiting (a backend may surface the deadline as its own
				// timeout error before ctx reports it): not an error.
				break
			}
			l.noteErr(err)
			sleepCtx(lockCtx, time.Millisecond) // a failing backend must not spin the CPU
			continue
		}
		t1 := time.Now()
		l.critical(slot, tok)
		err = l.lockers[slot].Unlock(unlockCtx)
		t2 := time.Now()
		end = l.windowEnd(end)
		l.totalOps++
		if err != nil {
			l.noteErr(err)
		}
		if t1.Before(measureAt) || !t1.Before(end) {
			continue
		}
		wait := t1.Sub(intended).Nanoseconds()
		l.ops++
		Record(l.acquire, wait)
		if l.uncorrected != nil {
			Record(l.uncorrected, t1.Sub(t0).Nanoseconds())
		}
		Record(l.holdRel, t2.Sub(t1).Nanoseconds())
		Record(l.cycle, t2.Sub(intended).Nanoseconds())
		l.maxWait = max(l.maxWait, wait)
		l.intervals.record(int(t1.Sub(measureAt)/interval), wait)
	}
	return l.final()
}

// windowEnd is end, or the coordinator's earlier end of an ops-sized window when it published one.
func (l *loop) windowEnd(end time.Time) time.Time {
	if e := l.w.WindowEnd(); e != 0 && e < end.UnixNano() {
		return time.Unix(0, e)
	}
	return end
}

// critical is the checked critical section: witness in, token check, the non-atomic balance
// read, the hold, the balance write, witness out. The hold sits between read and write so any
// overlap of two holders loses an update.
func (l *loop) critical(slot int, tok uint64) {
	if !l.w.Enter(slot) {
		l.viol++
	}
	if l.cfg.Tokens && !l.w.CheckToken(slot, tok) {
		l.viol++
	}
	v := l.w.BalanceRead(slot)
	hold(l.cfg.Hold)
	l.w.BalanceWrite(slot, v+1)
	l.w.Leave(slot)
}

// hold waits d: sleeping for long holds, spinning for short ones, where a timer's slack
// (tens of µs) would dwarf the hold itself.
func hold(d time.Duration) {
	switch {
	case d <= 0:
	case d >= time.Millisecond:
		time.Sleep(d)
	default:
		until := time.Now().Add(d)
		for time.Now().Before(until) {
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (l *loop) noteErr(err error) {
	l.errs++
	if l.firstErr == "" {
		l.firstErr = err.Error()
	}
}

func (l *loop) send(m Message) error {
	l.encMu.Lock()
	defer l.encMu.Unlock()
	if err := l.enc.Encode(m); err != nil {
		return fmt.Errorf("%w: write %s: %w", ErrWorker, m.Type, err)
	}
	return nil
}

func (l *loop) final() error {
	return l.send(Message{Type: MsgFinal, Ops: l.ops, TotalOps: l.totalOps, Errors: l.errs, Violations: l.viol,
		MaxWaitNs: l.maxWait, FirstError: l.firstErr, StartedUnixNs: l.started, Intervals: l.intervals.finish(),
		Acquire: CountsOf(l.acquire), AcquireUncorrected: CountsOf(l.uncorrected), HoldRelease: CountsOf(l.holdRel),
		Cycle: CountsOf(l.cycle)})
}
