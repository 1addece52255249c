package loadgen

// Cell orchestration: one cell from spawn or reconfiguration through the start barrier and the
// measured window to its verdict. The worker processes are the Pool's (pool.go); merging their
// reports is aggregate.go's; the interval log is intervals.go's.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/wwly/wwly/bench"
)

// ErrCell marks a cell that could not run or whose workers failed.
var ErrCell = errors.New("loadgen: cell")

// CellSpec is one cell to measure.
type CellSpec struct {
	Backend string
	Workers int
	Locks   int
	// Timing goes to every worker as it is (WorkerConfig embeds it too).
	Timing
	Seed   int64
	Repeat int
	Index  int // cell number in the run; makes lock names unique per cell
	// OpsPerWorker, when > 0, ends the window early once the workers have made OpsPerWorker × W
	// ops between them and MinWindow has passed; Duration is then the cap.
	OpsPerWorker int
	MinWindow    time.Duration
	// MinOps is the fewest measured ops per worker for the cell to be a result (see
	// runfile.Cell.Judge); 0 means the default.
	MinOps int
	// Work is the cell's workload (zero: the mutex); see workload.go.
	Work WorkSpec
}

// Validate rejects a spec that cannot run.
func (s CellSpec) Validate() error {
	switch {
	case s.Workers < 1:
		return fmt.Errorf("%w: %d workers", ErrCell, s.Workers)
	case s.Locks < 1:
		return fmt.Errorf("%w: %d locks", ErrCell, s.Locks)
	case s.Duration <= 0:
		return fmt.Errorf("%w: duration %v", ErrCell, s.Duration)
	case s.Hold < 0 || s.Warmup < 0 || s.Rate < 0 || s.OpsPerWorker < 0 || s.MinOps < 0:
		return fmt.Errorf("%w: negative hold, warm-up, rate or ops", ErrCell)
	}
	return nil
}

// CellOptions is what RunCell needs besides the spec.
type CellOptions struct {
	Spec      CellSpec
	Backend   bench.Backend
	Env       bench.Env
	ServerPID int
	// Command returns a fresh, unstarted command that runs one worker (`wwly worker`). RunCell
	// sets its stdio, environment additions and process group.
	Command func() *exec.Cmd
	// Pool, when set, supplies the workers and keeps them after the cell for the next one (the
	// caller closes it); nil means spawn for this cell and kill at its end.
	Pool     *Pool
	Dir      string    // scratch dir for the checker file
	Hlog     io.Writer // receives the cell's interval log; nil for none
	Progress Progress  // nil: silent
	// Grace is how long past the window's end workers may take to report before they count as
	// hung; zero picks a default that grows with the worker count.
	Grace time.Duration
}

// RunCell spawns the cell's workers, starts them together, collects their histograms and checks
// mutual exclusion. The returned Cell always describes what happened; Failed is set when workers
// crashed, hung, or (for an exclusive backend) exclusion was violated. Every worker is dead and
// reaped when RunCell returns. It is not safe to run two cells at once in one process.
func RunCell(ctx context.Context, o CellOptions) Cell {
	s := o.Spec
	if s.Interval <= 0 {
		s.Interval = time.Second
	}
	mode := "closed"
	if s.Rate > 0 {
		mode = "open"
	}
	cell := Cell{Backend: s.Backend, Workers: s.Workers, Locks: s.Locks, HoldNs: int64(s.Hold), Mode: mode,
		Rate: s.Rate, Repeat: s.Repeat, DurationNs: int64(s.Duration), Seed: s.Seed}
	s.Work.describe(&cell)
	if err := s.Validate(); err != nil {
		cell.Failed = err.Error()
		return cell
	}
	prog := o.Progress
	if prog == nil {
		prog = nopProgress{}
	}
	pool := o.Pool
	if pool == nil {
		pool = NewPool(o.Command)
		defer pool.Close()
	}
	c := &coordinator{Pool: pool, o: o, s: s, prog: prog, cell: &cell}
	if err := c.run(ctx); err != nil {
		cell.Failed = err.Error()
		pool.Close() // a failed cell's workers are never reused
	}
	// A cell with too few ops is not a result: it says so, and its numbers are not shown.
	cell.Judge(s.MinOps)
	return cell
}

type coordinator struct {
	*Pool
	o      CellOptions
	s      CellSpec
	prog   Progress
	cell   *Cell
	ready  int
	finals int

	startWall time.Time
	intervals map[int][]IntervalCounts // every worker's latencies by interval
}

// maxReuseWorkers bounds worker reuse across cells. It was 1000 while reused W=2000 workers'
// sessions timed out; the cause was the server's heartbeat cut of a box starved by idle pings and
// by 2000 compressed-histogram finals at once (docs/harness.md), both fixed, and respawning 2000
// costs 25–40 s. Above this, each cell spawns its own.
const maxReuseWorkers = 2000

func (c *coordinator) run(ctx context.Context) error {
	s := c.s
	if err := ensureFiles(3*s.Workers + 64); err != nil {
		return err
	}
	shmPath := filepath.Join(c.o.Dir, fmt.Sprintf("witness-%d", s.Index))
	w, err := CreateWitness(shmPath, s.Locks)
	if err != nil {
		return err
	}
	defer os.Remove(shmPath)
	defer w.Close()
	fan, err := c.openWork(ctx) // nil unless the workload is fanout (fanout.go)
	if err != nil {
		return err
	}
	defer fan.close()
	if err := c.start(ctx, c.workerConfig(shmPath)); err != nil {
		return err
	}
	// Memory is sampled at the barrier: every worker is connected with its histograms allocated,
	// and the measured window is not disturbed by reading thousands of /proc files.
	c.sampleWorkerMem()

	// Barrier: one wall-clock instant slightly ahead, published and woken with one futex call;
	// the margin lets every woken worker get a CPU and go back to sleep until the instant.
	margin := 50*time.Millisecond + time.Duration(s.Workers)*50*time.Microsecond
	c.startWall = time.Now().Add(margin)
	if err := w.Release(c.startWall); err != nil {
		return fmt.Errorf("%w: %w", ErrCell, err)
	}
	c.cell.BarrierNs += int64(margin)

	measureAt := c.startWall.Add(s.Warmup)
	if fan != nil {
		go fan.run(ctx, c.startWall, measureAt.Add(s.Duration))
	}
	end, err := c.collect(ctx, w, measureAt)
	if err != nil {
		return err
	}
	if err := fan.wait(); err != nil {
		return err
	}
	if pid := c.o.ServerPID; pid > 0 {
		if m, err := ReadMem(pid); err == nil {
			c.cell.ServerRSSBytes = m.RSS
		}
	}
	c.cell.DurationNs = int64(end.Sub(measureAt))
	if err := c.finish(w, measureAt, end); err != nil {
		return err
	}
	fan.conclude(c.cell)
	return nil
}

// workerConfig is what every worker of the cell gets, before its index and seed.
func (c *coordinator) workerConfig(shmPath string) WorkerConfig {
	s := c.s
	names := make([]string, s.Locks)
	for i := range names {
		names[i] = lockName(s, i)
	}
	return WorkerConfig{Backend: s.Backend, Env: c.o.Env, Names: names, Timing: s.Timing, Shm: shmPath,
		Tokens: c.o.Backend.Tokens(), ConnectTimeout: 60*time.Second + time.Duration(s.Workers)*30*time.Millisecond,
		Work: s.Work}
}

// lockName is the name of lock i of cell s: unique per cell and repeat.
func lockName(s CellSpec, i int) string { return fmt.Sprintf("bench-c%d-r%d-%d", s.Index, s.Repeat, i) }

// start spawns the cell's workers, a bounded number pending at a time, and waits for every
// READY — or, when the pool already holds this backend's W workers from the previous cell, hands
// them the new config. It sets SpawnNs, WorkersReused and the ready-wait part of BarrierNs.
func (c *coordinator) start(ctx context.Context, base WorkerConfig) error {
	s := c.s
	const stallLimit = 90 * time.Second // no READY for this long: hung
	reuse := c.backend == s.Backend && len(c.procs) == s.Workers && s.Workers <= maxReuseWorkers
	if !reuse {
		c.Pool.Close()
		c.backend = s.Backend
	}
	verb := "spawning"
	if reuse {
		verb = "reconfiguring"
	}
	c.prog.Phase(fmt.Sprintf("%s %d workers", verb, s.Workers), s.Workers)
	t0 := time.Now()
	readyBy := t0.Add(stallLimit)
	waitOne := func() error {
		before := c.ready
		if err := c.next(ctx, readyBy, "waiting for workers to connect"); err != nil {
			return err
		}
		if c.ready > before {
			readyBy = time.Now().Add(stallLimit)
		}
		return nil
	}
	for i := 0; i < s.Workers; i++ {
		cfg := base
		cfg.Index = i
		cfg.Seed = s.Seed + int64(i)*0x9E3779B9
		if reuse {
			if err := c.configure(c.procs[i], cfg); err != nil {
				return err
			}
			continue
		}
		for len(c.procs)-c.ready >= maxPending {
			if err := waitOne(); err != nil {
				return err
			}
		}
		if err := c.spawn(i, cfg); err != nil {
			return err
		}
	}
	spawned := time.Now()
	for c.ready < s.Workers {
		if err := waitOne(); err != nil {
			return err
		}
	}
	c.cell.SpawnNs = int64(spawned.Sub(t0))
	c.cell.BarrierNs = int64(time.Since(spawned))
	c.cell.WorkersReused = reuse
	return nil
}

// collect runs the window from the coordinator's side: it gathers interval and final reports
// until every worker has sent its final, shows live throughput, ends an ops-sized window when
// its target is met, and fails the cell when workers stay silent past the deadline. It returns
// the window's end as it happened.
func (c *coordinator) collect(ctx context.Context, w *Witness, measureAt time.Time) (time.Time, error) {
	s := c.s
	end := measureAt.Add(s.Duration)
	c.prog.Phase("warm-up", 0)
	c.intervals = map[int][]IntervalCounts{}
	grace := c.o.Grace
	if grace <= 0 {
		grace = 15*time.Second + unlockTimeout + time.Duration(s.Workers)*5*time.Millisecond
	}
	deadline := end.Add(grace)
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	live := liveRate{last: measureAt}
	win := opsWindow{target: int64(s.OpsPerWorker) * int64(s.Workers), measureAt: measureAt,
		minEnd: measureAt.Add(s.MinWindow)}
	var opsTick <-chan time.Time
	if win.target > 0 {
		t := time.NewTicker(opsPoll)
		defer t.Stop()
		opsTick = t.C
	}
	for c.finals < s.Workers {
		select {
		case ev := <-c.events:
			if err := c.handle(ev); err != nil {
				return end, err
			}
		case now := <-opsTick:
			if win.reached(now, w.Report().Balance) {
				opsTick = nil
				end = now
				w.EndWindow(end)
				deadline = end.Add(grace)
				c.prog.Phase("draining", 0)
			}
		case now := <-tick.C:
			if now.After(measureAt) && now.Before(end.Add(s.Interval)) {
				live.sample(c.prog, now, measureAt, w)
			}
			if now.After(deadline) {
				return end, c.hung("did not finish", deadline.Sub(end))
			}
		case <-ctx.Done():
			return end, fmt.Errorf("%w: %w", ErrCell, ctx.Err())
		}
	}
	return end, nil
}

// liveRate turns readings of the checker's balances into the progress line's live throughput:
// they count every critical section as it happens, at no cost to the workers.
type liveRate struct {
	measuring bool
	ops       int64
	last      time.Time
}

func (l *liveRate) sample(prog Progress, now, measureAt time.Time, w *Witness) {
	if !l.measuring {
		l.measuring = true
		prog.Phase("measuring", 0)
		l.last = measureAt
	}
	ops := w.Report().Balance
	if dt := now.Sub(l.last).Seconds(); dt > 0 && l.ops > 0 {
		prog.Rate(float64(ops-l.ops)/dt, now.Sub(measureAt))
	}
	l.ops, l.last = ops, now
}

// opsPoll is how often the coordinator reads the checker's live op count while an ops-sized
// window runs: the window overshoots its target by at most this much time.
const opsPoll = 20 * time.Millisecond

// opsWindow decides when an ops-sized window has its ops. It counts from the first reading at or
// after the window's start, so warm-up ops (and those of the first poll period) do not count:
// the window can only come out longer than its target, never shorter.
type opsWindow struct {
	target    int64
	measureAt time.Time
	minEnd    time.Time // the window lasts at least until here
	base      int64
	started   bool
}

// reached reports, for a reading of the live balance at now, whether the target is met.
func (o *opsWindow) reached(now time.Time, balance int64) bool {
	if now.Before(o.measureAt) {
		return false
	}
	if !o.started {
		o.base, o.started = balance, true
		return false
	}
	return balance-o.base >= o.target && !now.Before(o.minEnd)
}

// next waits for one event (or a deadline) and handles it.
func (c *coordinator) next(ctx context.Context, by time.Time, what string) error {
	t := time.NewTimer(time.Until(by))
	defer t.Stop()
	select {
	case ev := <-c.events:
		return c.handle(ev)
	case <-t.C:
		return c.hung(what, time.Since(by))
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrCell, ctx.Err())
	}
}

func (c *coordinator) handle(ev event) error {
	p := c.procs[ev.idx]
	switch {
	case ev.eof:
		p.eof = true
		if p.final != nil {
			return nil
		}
		return c.crashed(p, "exited before reporting", ev.err)
	case ev.err != nil:
		return c.crashed(p, "sent a bad line", ev.err)
	}
	switch ev.msg.Type {
	case MsgReady:
		if !p.ready {
			p.ready = true
			c.ready++
			c.cell.ConnectRetries += int64(ev.msg.Retries)
			c.prog.Progress(c.ready)
		}
	case MsgFinal:
		if p.final == nil {
			m := ev.msg
			for _, iv := range m.Intervals {
				c.intervals[iv.K] = append(c.intervals[iv.K], iv)
			}
			m.Intervals = nil // merged into the hlog after the window
			p.final = &m
			c.finals++
		}
	case MsgError:
		return c.crashed(p, "failed", errors.New(ev.msg.Err))
	}
	return nil
}

// crashed fails the cell, with the worker's last stderr. The process is killed first so its
// stderr is complete when quoted.
func (c *coordinator) crashed(p *proc, what string, err error) error {
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
	_ = p.cmd.Wait() // safe: its stdout reader already hit EOF or error, or Kill ends it
	msg := fmt.Sprintf("worker %d (pid %d) %s", p.idx, p.cmd.Process.Pid, what)
	if err != nil {
		msg += ": " + err.Error()
	}
	return fmt.Errorf("%w: %s%s", ErrCell, msg, p.stderrNote())
}

// hung fails the cell naming the workers that did not answer, with the first one's stderr.
func (c *coordinator) hung(what string, late time.Duration) error {
	var silent []int
	for _, p := range c.procs {
		if !p.ready || (c.startWall != (time.Time{}) && p.final == nil) {
			silent = append(silent, p.idx)
		}
	}
	c.signalAll()
	note := ""
	if len(silent) > 0 {
		p := c.procs[silent[0]]
		_ = p.cmd.Wait()
		note = p.stderrNote()
	}
	if len(silent) > 8 {
		silent = silent[:8]
	}
	return fmt.Errorf("%w: %s: workers %v (and maybe more) still silent %v past the deadline%s",
		ErrCell, what, silent, late.Round(time.Millisecond), note)
}
