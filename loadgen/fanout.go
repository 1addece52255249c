package loadgen

// The fanout workload: W worker processes wait on one event, the coordinator sets it, and each
// waiter records its wake instant minus the set instant, both read from CLOCK_MONOTONIC (the
// processes share a host, so one clock). Rounds repeat: the coordinator (the setter) opens round
// r on a round board in shared memory, waits until every waiter says it is about to wait, lets
// the waits settle into the backend, sets, waits until every waiter woke, clears, and opens the
// next round. The waiters' wake latencies are their Acquire histograms (so the common tables
// read them); the last wake of each round is the board's and goes into Cell.Fanout.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/runfile"
)

// fanoutWarmupRounds are set/wake rounds run before the measured ones (connections and code
// paths warm), recorded nowhere.
const fanoutWarmupRounds = 2

// ErrFanout marks a fanout round that could not complete.
var ErrFanout = errors.New("loadgen: fanout")

// Board is the round board, one mmap'd file shared by the setter and every waiter. Layout:
//
//	magic u64 | round u32 (futex word) | stop u32 | armed u32 | woken u32 | set ns i64 |
//	last wake ns i64 (CLOCK_MONOTONIC)
type Board struct{ mem []byte }

const (
	boardMagic = 0x77776c79_626f7264 // "wwlybord"
	boardSize  = 64
)

// CreateBoard makes a zeroed board at path.
func CreateBoard(path string) (*Board, error) {
	if err := os.WriteFile(path, make([]byte, boardSize), 0o600); err != nil {
		return nil, fmt.Errorf("%w: board: %w", ErrShm, err)
	}
	b, err := OpenBoard(path)
	if err != nil {
		return nil, err
	}
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&b.mem[0])), boardMagic)
	return b, nil
}

// OpenBoard maps the board at path.
func OpenBoard(path string) (*Board, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: board: %w", ErrShm, err)
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, boardSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%w: board mmap %s: %w", ErrShm, path, err)
	}
	return &Board{mem: mem}, nil
}

// Close unmaps the board.
func (b *Board) Close() error {
	if b == nil || b.mem == nil {
		return nil
	}
	err := unix.Munmap(b.mem)
	b.mem = nil
	return err
}

func (b *Board) u32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&b.mem[off])) }
func (b *Board) i64(off int) *int64  { return (*int64)(unsafe.Pointer(&b.mem[off])) }

func (b *Board) round() *uint32   { return b.u32(8) }
func (b *Board) stop() *uint32    { return b.u32(12) }
func (b *Board) armed() *uint32   { return b.u32(16) }
func (b *Board) woken() *uint32   { return b.u32(20) }
func (b *Board) setNs() *int64    { return b.i64(24) }
func (b *Board) lastWake() *int64 { return b.i64(32) }

// monoNow is CLOCK_MONOTONIC in ns: one clock for every process of the host (Go's own
// monotonic readings are relative to each process's start).
func monoNow() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// awaitRound blocks until the board's round reaches r (true) or the setter stops (false).
func (b *Board) awaitRound(ctx context.Context, r uint32) (bool, error) {
	word := b.round()
	stop := context.AfterFunc(ctx, func() { _ = wakeAll(word) })
	defer stop()
	for {
		if atomic.LoadUint32(b.stop()) != 0 {
			return false, nil
		}
		cur := atomic.LoadUint32(word)
		if cur >= r {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("%w: waiting for round %d: %w", ErrFanout, r, err)
		}
		if err := waitWhile(word, cur); err != nil {
			return false, err
		}
	}
}

// woke records a waiter's wake at mono instant now.
func (b *Board) woke(now int64) {
	p := b.lastWake()
	for {
		old := atomic.LoadInt64(p)
		if now <= old || atomic.CompareAndSwapInt64(p, old, now) {
			break
		}
	}
	atomic.AddUint32(b.woken(), 1)
}

// fanoutBody is a waiter's loop (see the file comment). The Event is opened before READY.
func (l *loop) fanoutBody(ctx context.Context, cl bench.Client) (func(context.Context) error, func(), error) {
	br, ok := cl.(bench.Broadcaster)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s client is no Broadcaster", ErrWorkload, l.cfg.Backend)
	}
	b, err := OpenBoard(l.cfg.Work.Board)
	if err != nil {
		return nil, nil, err
	}
	ev, err := br.Event(ctx, l.cfg.Names[0])
	if err != nil {
		_ = b.Close()
		return nil, nil, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	cleanup := func() { _ = b.Close() }
	return func(ctx context.Context) error { return l.waitRounds(ctx, b, ev) }, cleanup, nil
}

func (l *loop) waitRounds(ctx context.Context, b *Board, ev bench.Event) error {
	l.started = time.Now().UnixNano()
	// Every wait ends by the window's end plus the grace the coordinator gives an unlock: the
	// setter stops opening rounds at the window's end.
	limit := time.Now().Add(l.cfg.Warmup + l.cfg.Duration + unlockTimeout)
	wctx, cancel := context.WithDeadline(ctx, limit)
	defer cancel()
	for r := uint32(1); ; r++ {
		ok, err := b.awaitRound(wctx, r)
		if err != nil || !ok {
			return err
		}
		r = atomic.LoadUint32(b.round())
		atomic.AddUint32(b.armed(), 1)
		err = ev.Wait(wctx)
		now := monoNow()
		lat := now - atomic.LoadInt64(b.setNs())
		b.woke(now) // also after an error, so the setter does not wait for this waiter in vain
		if err != nil {
			l.noteErr(err)
			if wctx.Err() != nil {
				return nil
			}
			continue
		}
		l.totalOps++
		atomic.AddInt64(l.w.balance(0), 1) // the checker's op count, which the coordinator compares
		if r <= fanoutWarmupRounds {
			continue
		}
		l.ops++
		Record(l.acquire, lat)
		Record(l.cycle, lat)
		l.maxWait = max(l.maxWait, lat)
	}
}

// fanoutSetter is the coordinator's side of a fanout cell: it runs the rounds in a goroutine
// while collect gathers the waiters' reports.
type fanoutSetter struct {
	board   *Board
	cl      bench.Client
	ev      bench.Event
	waiters uint32
	rounds  int
	settle  time.Duration
	done    chan struct{}
	res     runfile.Fanout
	err     error
	// began is when the first measured round opened, took how long the measured rounds lasted.
	began time.Time
	took  time.Duration
}

// fanoutSettle is how long the setter waits, after every waiter said it is about to wait, for
// the waits to reach the backend: a wait that comes after the set still returns (the event is
// set until the clear), but its latency then includes its own lateness.
func fanoutSettle(waiters int) time.Duration {
	return 5*time.Millisecond + time.Duration(waiters)*50*time.Microsecond
}

// openFanout makes the board, points the cell's workers at it and connects the setter.
func (c *coordinator) openFanout(ctx context.Context, name string) (*fanoutSetter, error) {
	path := fmt.Sprintf("%s/board-%d", c.o.Dir, c.s.Index)
	b, err := CreateBoard(path)
	if err != nil {
		return nil, err
	}
	c.s.Work.Board = path
	f := &fanoutSetter{board: b, waiters: uint32(c.s.Workers), rounds: c.s.Work.Rounds,
		settle: fanoutSettle(c.s.Workers), done: make(chan struct{})}
	if f.rounds <= 0 {
		f.rounds = runfile.DefaultRounds
	}
	if f.cl, err = c.o.Backend.Connect(ctx, c.o.Env); err != nil {
		_ = f.close()
		return nil, fmt.Errorf("%w: setter: %w", ErrCell, err)
	}
	br, ok := f.cl.(bench.Broadcaster)
	if !ok {
		_ = f.close()
		return nil, fmt.Errorf("%w: %s client is no Broadcaster", ErrWorkload, c.s.Backend)
	}
	if f.ev, err = br.Event(ctx, name); err != nil {
		_ = f.close()
		return nil, fmt.Errorf("%w: setter: %w", ErrCell, err)
	}
	return f, nil
}

func (f *fanoutSetter) close() error {
	if f == nil {
		return nil
	}
	var err error
	if f.cl != nil {
		err = f.cl.Close()
	}
	return errors.Join(err, f.board.Close())
}

// run opens rounds from start until the rounds are done or end passes, then stops the board.
func (f *fanoutSetter) run(ctx context.Context, start, end time.Time) {
	defer close(f.done)
	defer f.halt()
	sleepCtx(ctx, time.Until(start))
	for r := 1; r <= fanoutWarmupRounds+f.rounds && time.Now().Before(end); r++ {
		if r == fanoutWarmupRounds+1 {
			f.began = time.Now()
		}
		last, err := f.round(ctx, uint32(r), end)
		if err != nil {
			f.err = err
			return
		}
		if r > fanoutWarmupRounds {
			f.res.LastWakeNs = append(f.res.LastWakeNs, last)
			f.took = time.Since(f.began)
		}
	}
}

// halt stops the waiters: the stop flag, a round bump that wakes those between rounds, and a
// set that wakes any still waiting on the event after a failed round.
func (f *fanoutSetter) halt() {
	b := f.board
	atomic.StoreUint32(b.stop(), 1)
	atomic.AddUint32(b.round(), 1)
	_ = wakeAll(b.round())
	if f.err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.ev.Set(ctx)
	}
}

// round runs set/wake round r and returns its last wake minus its set, in ns.
func (f *fanoutSetter) round(ctx context.Context, r uint32, end time.Time) (int64, error) {
	b := f.board
	atomic.StoreUint32(b.armed(), 0)
	atomic.StoreUint32(b.woken(), 0)
	atomic.StoreInt64(b.lastWake(), 0)
	atomic.StoreUint32(b.round(), r)
	if err := wakeAll(b.round()); err != nil {
		return 0, err
	}
	by := time.Now().Add(roundLimit(int(f.waiters)))
	if err := pollUntil(ctx, b.armed(), f.waiters, by); err != nil {
		return 0, fmt.Errorf("%w: round %d: waiters arming: %w", ErrFanout, r, err)
	}
	sleepCtx(ctx, f.settle)
	set := monoNow()
	atomic.StoreInt64(b.setNs(), set)
	if err := f.ev.Set(ctx); err != nil {
		return 0, fmt.Errorf("%w: round %d: set: %w", ErrFanout, r, err)
	}
	if err := pollUntil(ctx, b.woken(), f.waiters, by.Add(roundLimit(int(f.waiters)))); err != nil {
		return 0, fmt.Errorf("%w: round %d: waiters waking: %w", ErrFanout, r, err)
	}
	last := atomic.LoadInt64(b.lastWake()) - set
	if err := f.ev.Clear(ctx); err != nil {
		return 0, fmt.Errorf("%w: round %d: clear: %w", ErrFanout, r, err)
	}
	return last, nil
}

// grace is how long past the window's end the cell's workers may take to report: 0 (the
// default) for every workload but fanout, whose last round may start just before the end and
// take both of its halves' limits before the setter gives up and says why.
func (w WorkSpec) grace(workers int) time.Duration {
	if w.Workload != WorkloadFanout {
		return 0
	}
	return 2*roundLimit(workers) + 30*time.Second
}

// roundLimit bounds each half of a round: generous, as thousands of processes on two cores
// take seconds to be scheduled.
func roundLimit(waiters int) time.Duration {
	return 10*time.Second + time.Duration(waiters)*10*time.Millisecond
}

// pollUntil waits until *word reaches n, looking every 100 µs: the coordinator's one goroutine
// polling costs the waiters little, and the instant it notices does not enter any figure.
func pollUntil(ctx context.Context, word *uint32, n uint32, by time.Time) error {
	for {
		got := atomic.LoadUint32(word)
		if got >= n {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(by) {
			return fmt.Errorf("%d of %d after the limit", got, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// openWork prepares the coordinator's side of the cell's workload: the setter of a fanout
// cell, nil for the others (every fanoutSetter method takes a nil receiver).
func (c *coordinator) openWork(ctx context.Context) (*fanoutSetter, error) {
	if c.s.Work.Workload != WorkloadFanout {
		return nil, nil
	}
	return c.openFanout(ctx, lockName(c.s, 0))
}

// wait returns the setter's outcome once its goroutine ended (collect has every final by then,
// and waiters send theirs only after the setter stopped them, so this is quick).
func (f *fanoutSetter) wait() error {
	if f == nil {
		return nil
	}
	limit := 10 * time.Second
	select {
	case <-f.done:
		return f.err
	case <-time.After(limit):
		return fmt.Errorf("%w: the setter did not finish within %v", ErrFanout, limit)
	}
}

// conclude fills the cell's fanout figures: the wake distribution is the merged waiters'
// latency (cell.Latency), the last wakes the setter's.
func (f *fanoutSetter) conclude(cell *Cell) {
	if f == nil {
		return
	}
	res := f.res
	res.Rounds = len(res.LastWakeNs)
	res.Wake = cell.Latency
	res.SettleNs = int64(f.settle)
	h := NewHistogram()
	for _, v := range res.LastWakeNs {
		Record(h, v)
	}
	res.LastWake = PercentilesOf(h)
	cell.Fanout = &res
	// The window is the measured rounds', not the cap's: ops/s is wakes per second of rounds.
	if f.took > 0 {
		cell.DurationNs = int64(f.took)
		cell.OpsPerSec = float64(cell.Ops) / f.took.Seconds()
	}
}
