package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wwly/wwly/bench"
)

// ErrCell marks a cell that could not run or whose workers failed.
var ErrCell = errors.New("loadgen: cell")

// Spawning: at most maxPending workers may be started but not yet ready, so a few thousand Go
// runtimes do not all boot at once on two cores.
const (
	maxPending   = 64
	stderrTail   = 4 << 10
	workerGOGC   = "50"
	workerMemLim = "48MiB"
)

// CellSpec is one cell to measure.
type CellSpec struct {
	Backend  string
	Workers  int
	Locks    int
	Hold     time.Duration
	Warmup   time.Duration
	Duration time.Duration
	Rate     float64 // per worker; 0 = closed loop
	Seed     int64
	Repeat   int
	Index    int           // cell number in the run; makes lock names unique per cell
	Interval time.Duration // progress/hlog interval; 1 s when zero
	// OpsPerWorker, when > 0, ends the window early once the workers have made OpsPerWorker × W
	// ops between them and MinWindow has passed; Duration is then the cap.
	OpsPerWorker int
	MinWindow    time.Duration
	// MinOps is the fewest measured ops per worker for the cell to be a result (see
	// runfile.Cell.Judge); 0 means the default.
	MinOps int
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

// proc is one worker process as the coordinator sees it. Fields are owned by RunCell's
// goroutine except stderr, which is safe for concurrent use.
type proc struct {
	idx    int
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailBuffer
	ready  bool
	final  *Message
	eof    bool
	failed string
}

type event struct {
	idx int
	msg Message
	eof bool
	err error
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
	intervals map[int][]string // encoded interval histograms by second
}

// maxReuseWorkers bounds worker reuse across cells: at W=2000 handing 2000 reused workers their
// next config took seconds, their start skew reached 8.5 s and their sessions timed out (every op
// failed), while fresh workers ran clean. Above this, each cell spawns its own.
const maxReuseWorkers = 1000

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

	names := make([]string, s.Locks)
	for i := range names {
		names[i] = fmt.Sprintf("bench-c%d-r%d-%d", s.Index, s.Repeat, i)
	}
	base := WorkerConfig{Backend: s.Backend, Env: c.o.Env, Names: names, Hold: s.Hold, Warmup: s.Warmup,
		Duration: s.Duration, Rate: s.Rate, Shm: shmPath, Tokens: c.o.Backend.Tokens(), Interval: s.Interval}
	base.ConnectTimeout = 60*time.Second + time.Duration(s.Workers)*30*time.Millisecond

	// Spawn, a bounded number pending at a time, and wait for every READY — or, when the pool
	// already holds this backend's W workers from the previous cell, hand them the new config.
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
	allReady := time.Now()
	c.cell.SpawnNs = int64(spawned.Sub(t0))
	c.cell.WorkersReused = reuse

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
	c.cell.BarrierNs = int64(allReady.Sub(spawned) + margin)

	// Run: collect intervals and finals.
	measureAt := c.startWall.Add(s.Warmup)
	end := measureAt.Add(s.Duration)
	c.prog.Phase("warm-up", 0)
	c.intervals = map[int][]string{}
	grace := c.o.Grace
	if grace <= 0 {
		grace = 15*time.Second + unlockTimeout + time.Duration(s.Workers)*5*time.Millisecond
	}
	deadline := end.Add(grace)
	tick := time.NewTicker(s.Interval)
	defer tick.Stop()
	var lastOps int64
	lastT := measureAt
	measuring := false
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
				return err
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
			if !measuring && now.After(measureAt) {
				measuring = true
				c.prog.Phase("measuring", 0)
				lastT = measureAt
			}
			if measuring && now.Before(end.Add(s.Interval)) {
				// Live throughput from the checker's balances: they count every critical
				// section as it happens, at no cost to the workers.
				live := w.Report().Balance
				if dt := now.Sub(lastT).Seconds(); dt > 0 && lastOps > 0 {
					c.prog.Rate(float64(live-lastOps)/dt, now.Sub(measureAt))
				}
				lastOps, lastT = live, now
			}
			if now.After(deadline) {
				return c.hung("did not finish", deadline.Sub(end))
			}
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrCell, ctx.Err())
		}
	}
	if pid := c.o.ServerPID; pid > 0 {
		if m, err := ReadMem(pid); err == nil {
			c.cell.ServerRSSBytes = m.RSS
		}
	}
	c.cell.DurationNs = int64(end.Sub(measureAt))
	return c.finish(w, measureAt, end)
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
	case MsgInterval:
		// Kept encoded and merged after the window: decoding thousands of histograms a second
		// would take CPU from the workers being measured.
		c.intervals[ev.msg.K] = append(c.intervals[ev.msg.K], ev.msg.Hist)
	case MsgFinal:
		if p.final == nil {
			m := ev.msg
			p.final = &m
			c.finals++
		}
	case MsgError:
		return c.crashed(p, "failed", errors.New(ev.msg.Err))
	}
	return nil
}

func (c *Pool) spawn(i int, cfg WorkerConfig) error {
	cmd := c.command()
	cmd.Env = append(cmd.Environ(), "GOMAXPROCS=1", "GOGC="+workerGOGC, "GOMEMLIMIT="+workerMemLim)
	// One process group for the cell's workers: one kill reaches them all. Pdeathsig covers a
	// coordinator that dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: c.pgid, Pdeathsig: syscall.SIGKILL}
	p := &proc{idx: i, cmd: cmd, stderr: &tailBuffer{max: stderrTail}}
	cmd.Stderr = p.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: start worker %d: %w", ErrCell, i, err)
	}
	if c.pgid == 0 {
		c.pgid = cmd.Process.Pid
	}
	p.stdin = stdin
	c.procs = append(c.procs, p)
	c.wg.Add(1)
	go c.readWorker(i, stdout)
	return c.configure(p, cfg)
}

// configure sends a worker the config of its next cell and forgets its last one.
func (c *Pool) configure(p *proc, cfg WorkerConfig) error {
	p.ready, p.final = false, nil
	line, _ := json.Marshal(cfg)
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("%w: worker %d: send config: %w%s", ErrCell, p.idx, err, p.stderrNote())
	}
	return nil
}

// readWorker turns one worker's stdout into events until EOF. Sends block when the coordinator
// is busy; they never outlive killAll, which drains the channel until every reader is done.
func (c *Pool) readWorker(i int, r io.Reader) {
	defer c.wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	for sc.Scan() {
		m, err := DecodeMessage(sc.Bytes())
		c.events <- event{idx: i, msg: m, err: err}
		if err != nil {
			_, _ = io.Copy(io.Discard, r)
			break
		}
	}
	c.events <- event{idx: i, eof: true, err: sc.Err()}
}

// Pool is a set of running worker processes of one backend, kept across the cells that have
// the same worker count so thousands of processes are not respawned for every cell. The zero
// value is not usable; make one with NewPool. A Pool is used by one goroutine at a time (the
// cell running on it); Close must be called when done with it.
type Pool struct {
	command func() *exec.Cmd
	backend string // backend the workers are connected to
	procs   []*proc
	events  chan event
	wg      sync.WaitGroup // stdout readers
	pgid    int
}

// NewPool returns an empty pool that starts workers with command.
func NewPool(command func() *exec.Cmd) *Pool {
	return &Pool{command: command, events: make(chan event, 1024)}
}

// Close kills and reaps every worker and empties the pool (it can be filled again).
func (c *Pool) Close() {
	if c == nil || len(c.procs) == 0 {
		return
	}
	c.killAll()
	c.procs, c.pgid, c.backend = nil, 0, ""
	c.events = make(chan event, 1024)
}

// killAll ends every worker: close stdin (asks them to stop), a short wait, then SIGKILL to the
// group and to each pid, then reap.
func (c *Pool) killAll() {
	for _, p := range c.procs {
		_ = p.stdin.Close()
	}
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	wait := time.NewTimer(3 * time.Second)
	defer wait.Stop()
drain:
	for {
		select {
		case <-c.events:
		case <-done:
			break drain
		case <-wait.C:
			c.signalAll()
		}
	}
	c.signalAll() // stdout closed does not prove the process exited
	for _, p := range c.procs {
		_ = p.cmd.Wait()
	}
}

func (c *Pool) signalAll() {
	if c.pgid > 0 {
		_ = syscall.Kill(-c.pgid, syscall.SIGKILL)
	}
	for _, p := range c.procs {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
		}
	}
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

func (p *proc) stderrNote() string {
	s := strings.TrimSpace(p.stderr.String())
	if s == "" {
		return ""
	}
	return "\n--- worker stderr (last " + fmt.Sprint(stderrTail/1024) + " KB) ---\n" + s
}

func (c *coordinator) sampleWorkerMem() {
	var rss, pss, n int64
	for _, p := range c.procs {
		m, err := ReadMem(p.cmd.Process.Pid)
		if err != nil {
			continue
		}
		rss += m.RSS
		pss += m.PSS
		n++
	}
	if n > 0 {
		c.cell.WorkerRSSBytes = rss / n
		c.cell.WorkerPSSBytes = pss / n
	}
}

// finish merges the finals, checks exclusion and writes the interval log.
func (c *coordinator) finish(w *Witness, measureAt, end time.Time) error {
	cell := c.cell
	acq, holdRel, cyc := NewHistogram(), NewHistogram(), NewHistogram()
	var unc *hdrhistogram.Histogram
	if c.s.Rate > 0 {
		unc = NewHistogram()
	}
	var totalOps int64
	var firstStart, lastStart int64
	cell.PerWorkerOps = make([]int64, len(c.procs))
	for i, p := range c.procs {
		f := p.final
		pairs := []struct {
			dst *hdrhistogram.Histogram
			src string
		}{{acq, f.Acquire}, {holdRel, f.HoldRelease}, {cyc, f.Cycle}, {unc, f.AcquireUncorrected}}
		for _, pr := range pairs {
			if pr.dst == nil {
				continue
			}
			h, err := DecodeHistogram(pr.src)
			if err != nil {
				return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
			}
			if err := MergeInto(pr.dst, h); err != nil {
				return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
			}
		}
		cell.PerWorkerOps[i] = f.Ops
		if firstStart == 0 || f.StartedUnixNs < firstStart {
			firstStart = f.StartedUnixNs
		}
		lastStart = max(lastStart, f.StartedUnixNs)
		cell.Ops += f.Ops
		totalOps += f.TotalOps
		cell.Errors += f.Errors
		cell.MaxWaitNs = max(cell.MaxWaitNs, f.MaxWaitNs)
		if f.Ops == 0 {
			cell.StarvedWorkers++
		}
		if cell.FirstError == "" && f.FirstError != "" {
			cell.FirstError = fmt.Sprintf("worker %d: %s", i, f.FirstError)
		}
	}
	cell.TotalOps = totalOps
	cell.StartSkewNs = lastStart - firstStart
	if early := c.startWall.UnixNano() - firstStart; early > int64(time.Millisecond) {
		return fmt.Errorf("%w: barrier broken: a worker started %v before the start instant", ErrCell, time.Duration(early))
	}
	cell.OpsPerSec = float64(cell.Ops) / time.Duration(cell.DurationNs).Seconds()
	cell.Latency = PercentilesOf(acq)
	if unc != nil {
		p := PercentilesOf(unc)
		cell.LatencyUncorrected = &p
	}
	cell.HoldRelease = PercentilesOf(holdRel)
	cell.Cycle = PercentilesOf(cyc)
	cell.Jain = Jain(cell.PerWorkerOps)

	r := w.Report()
	cell.ViolationKinds = &ViolationKinds{Witness: r.Witness, Token: r.Token, LostUpdates: r.LostUpdates(totalOps)}
	cell.Violations = r.Violations(totalOps)

	if c.o.Hlog != nil {
		if err := c.writeHlog(measureAt, end); err != nil {
			return fmt.Errorf("%w: hlog: %w", ErrCell, err)
		}
	}
	if cell.Violations > 0 && c.o.Backend.Exclusive() {
		return fmt.Errorf("%w: MUTUAL EXCLUSION VIOLATED: %d violations (witness %d, token %d, lost updates %d of %d ops)",
			ErrCell, cell.Violations, r.Witness, r.Token, cell.ViolationKinds.LostUpdates, totalOps)
	}
	// Every op failing is a broken run, not a slow backend (a slow one shows 0 ops and 0 errors).
	if cell.Ops == 0 && cell.Errors > 0 {
		return fmt.Errorf("%w: no progress: 0 ops in the measured window, %d errors; first: %s",
			ErrCell, cell.Errors, cell.FirstError)
	}
	return nil
}

func (c *coordinator) writeHlog(measureAt, end time.Time) error {
	comment := fmt.Sprintf("wwly bench %s workers=%d locks=%d hold=%v mode=%s seed=%d: acquire latency (ns)",
		c.s.Backend, c.s.Workers, c.s.Locks, c.s.Hold, c.cell.Mode, c.s.Seed)
	lg, err := NewIntervalLog(c.o.Hlog, measureAt.UnixMilli(), c.s.Backend, comment)
	if err != nil {
		return err
	}
	ks := make([]int, 0, len(c.intervals))
	for k := range c.intervals {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		st := measureAt.Add(time.Duration(k) * c.s.Interval)
		en := st.Add(c.s.Interval)
		if en.After(end) {
			en = end
		}
		h := NewHistogram()
		for _, enc := range c.intervals[k] {
			part, err := DecodeHistogram(enc)
			if err != nil {
				return err
			}
			if err := MergeInto(h, part); err != nil {
				return err
			}
		}
		if err := lg.Write(h, st.UnixMilli(), en.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it. Safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
