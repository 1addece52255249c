package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/runfile"
)

// Errors a whole run ends with (wrapped with details). Callers map them to exit codes.
var (
	// ErrFailed: a cell failed (crash, hang, backend error) or an exclusive backend violated
	// mutual exclusion.
	ErrFailed = errors.New("loadgen: run failed")
	// ErrControlClean: the none control showed no violation with W > 1, so the checker was not
	// shown able to fail and a clean result elsewhere proves nothing.
	ErrControlClean = errors.New("loadgen: control backend showed no violations")
)

// Options configure RunScenario.
type Options struct {
	Scenario Scenario
	// OutDir receives run.json and the .hlog files; default ResultsRoot/<run-id>.
	OutDir string
	// ResultsRoot is where the "latest" symlink lives (default "results"); the link is updated
	// only when OutDir is inside it.
	ResultsRoot string
	Addrs       map[string]string // "wwly", "redis", "etcd"
	Binary      string            // wwly binary for servers and workers (default os.Executable)
	// WorkerCommand returns a fresh worker command; default WorkerCommandFor(Binary, backend).
	WorkerCommand func() *exec.Cmd
	Lookup        Lookup
	Reporter      Reporter // nil: plain lines to Out
	Out           io.Writer
	Interval      time.Duration // progress and hlog interval; default DefaultInterval of each cell
}

// RunScenario measures every cell of the scenario, writes run.json and the interval logs, prints the
// summary table, and returns the run. The error wraps ErrFailed or ErrControlClean when the
// run must be reported as failed; the Run is returned (and written) either way.
func RunScenario(ctx context.Context, o Options) (*Run, error) {
	sc := o.Scenario
	if sc.Repeat == 0 {
		sc.Repeat = 1
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Lookup == nil {
		return nil, fmt.Errorf("%w: no backend lookup", ErrScenario)
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("loadgen: find own binary: %w", err)
		}
		o.Binary = exe
	}
	if o.ResultsRoot == "" {
		o.ResultsRoot = "results"
	}
	rep := o.Reporter
	if rep == nil {
		rep = &lineReporter{out: o.Out}
	}
	if sc.Seed == 0 {
		sc.Seed = rand.Int64N(1<<53) + 1
	}
	started := time.Now().UTC()
	id := started.Format("20060102T150405Z")
	if o.OutDir == "" {
		o.OutDir = filepath.Join(o.ResultsRoot, id)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	scratch, err := os.MkdirTemp("", "wwly-bench-")
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer os.RemoveAll(scratch)

	versions, commit := Versions(ctx)
	run := &Run{Schema: SchemaVersion, ID: id, Started: started, Machine: DescribeMachine(),
		Versions: versions, Commit: commit, Config: sc}
	rep.Logf("wwly bench %q: %d cells, at least %v; seed %d; writing %s", sc.Name, sc.Cells(), sc.Estimate(), sc.Seed, o.OutDir)
	rep.Plan(sc.Cells(), sc.Warmup.Std()+sc.Duration.Std())

	index := 0
	// A scenario with parts runs each stage in turn (runfile.Config.Stages); each stage's
	// backends get their own scratch dir, as a backend may start again in a later stage.
	for si, st := range sc.Stages() {
		maxW := 0
		for _, w := range st.Workers {
			maxW = max(maxW, w)
		}
		stScratch := scratch
		if len(sc.Parts) > 0 {
			stScratch = filepath.Join(scratch, fmt.Sprintf("stage%d", si))
		}
		for _, name := range st.Backends {
			if ctx.Err() != nil {
				break
			}
			cells := runBackend(ctx, o, st, name, maxW, stScratch, &index, rep)
			run.Cells = append(run.Cells, cells...)
			if err := writeRun(o.OutDir, run); err != nil {
				return run, err
			}
		}
	}
	rep.Close()
	if err := writeRun(o.OutDir, run); err != nil {
		return run, err
	}
	if err := linkLatest(o.ResultsRoot, o.OutDir); err != nil {
		fmt.Fprintf(o.Out, "warning: %v\n", err)
	}
	WriteSummary(o.Out, run)
	fmt.Fprintf(o.Out, "run %s: seed %d; results in %s\n", run.ID, sc.Seed, o.OutDir)
	if err := ctx.Err(); err != nil {
		return run, fmt.Errorf("%w: interrupted: %w", ErrFailed, err)
	}
	return run, Verdict(run)
}

// runBackend starts one backend once and measures its cells.
func runBackend(ctx context.Context, o Options, sc Scenario, name string, maxW int, scratch string,
	index *int, rep Reporter) []Cell {
	var cells []Cell
	each := func(fn func(w, l, r int)) {
		for _, w := range sc.Workers {
			for _, l := range sc.Locks {
				for r := range sc.Repeat {
					fn(w, l, r)
				}
			}
		}
	}
	work := WorkSpecOf(&sc)
	skipAll := func(why string, failed bool) []Cell {
		each(func(w, l, r int) {
			c := Cell{Backend: name, Workers: w, Locks: l, HoldNs: int64(sc.Hold), Mode: modeOf(sc.Rate),
				Rate: sc.Rate, Repeat: r}
			work.describe(&c)
			if failed {
				c.Failed = why
			} else {
				c.Skipped = why
			}
			cells = append(cells, c)
		})
		rep.Skip(len(cells))
		return cells
	}
	b, err := o.Lookup(name)
	if err != nil {
		return skipAll(err.Error(), true)
	}
	if err := bench.Supports(b, work.Workload); err != nil {
		rep.Logf("%s: skipped for workload %s: %v", name, work.Workload, err)
		return skipAll(err.Error(), false)
	}
	dir := filepath.Join(scratch, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return skipAll(err.Error(), true)
	}
	var serverArgs []string
	if name == "wwly" || name == "wwly-tls" { // the single-node server, plain or TLS
		serverArgs = sc.ServerArgs
	}
	inst, err := b.Start(ctx, bench.StartOptions{Dir: dir, Binary: o.Binary, ServerArgs: serverArgs,
		Addrs: o.Addrs, MaxWorkers: maxW})
	if err != nil {
		if errors.Is(err, bench.ErrUnavailable) {
			rep.Logf("%s: skipped: %v", name, err)
			return skipAll(err.Error(), false)
		}
		rep.Logf("%s: FAILED to start: %v", name, err)
		return skipAll("start: "+err.Error(), true)
	}
	defer func() {
		if err := inst.Stop(); err != nil {
			rep.Logf("%s: stop: %v", name, err)
		}
	}()
	timing := TimingOf(&sc, o.Interval)
	command := o.WorkerCommand
	if command == nil {
		var path string
		command, path = WorkerCommandFor(o.Binary, name)
		rep.Logf("%s: workers run %s", name, path)
	}
	// Cells with the same worker count run on the same worker processes: spawning thousands of
	// processes costs far more than a cell's window on a small box.
	var pool *Pool
	curW := 0
	defer func() { pool.Close() }()
	each(func(w, l, r int) {
		if ctx.Err() != nil {
			return
		}
		if w != curW {
			pool.Close()
			pool, curW = NewPool(command), w
		}
		*index++
		spec := CellSpec{Backend: name, Workers: w, Locks: l, Timing: timing, Seed: sc.Seed + int64(*index)*1_000_003,
			Repeat: r, Index: *index, OpsPerWorker: sc.OpsPerWorker, MinOps: sc.MinOps(), Work: work}
		if sc.OpsPerWorker > 0 {
			spec.MinWindow = sc.Duration.Std()
		}
		if work.Workload == WorkloadFanout {
			// A waiter makes one op per round: it is a result when the waiters woke in at least
			// half the rounds on average (a round cut by the window's end, or a failed wait, is
			// missing), and conclusive when each did.
			spec.MinOps = max(1, work.Rounds/2)
		}
		if spec.Interval <= 0 {
			spec.Interval = DefaultInterval(spec.Duration, w)
		}
		label := fmt.Sprintf("%s W=%d L=%d", name, w, l)
		if sc.Repeat > 1 {
			label += fmt.Sprintf(" #%d", r)
		}
		hlogRel := fmt.Sprintf("%s-w%d-l%d-r%d.hlog", name, w, l, r)
		if work.Other() {
			label = work.Workload + " " + label
			hlogRel = work.Workload + "-" + hlogRel
		}
		f, err := os.Create(filepath.Join(o.OutDir, hlogRel))
		if err != nil {
			cells = append(cells, Cell{Backend: name, Workers: w, Locks: l, Failed: err.Error()})
			return
		}
		prog := rep.Cell(label)
		cell := RunCell(ctx, CellOptions{Spec: spec, Backend: b, Env: inst.Env(), ServerPID: inst.ServerPID(),
			Command: command, Pool: pool, Dir: dir, Hlog: f, Progress: prog, Grace: work.grace(w)})
		prog.Done()
		_ = f.Close()
		cell.Hlog = hlogRel
		cell.ServerArgs = serverArgs
		rep.Logf("%s", cellLine(label, &cell, b.Exclusive()))
		cells = append(cells, cell)
	})
	return cells
}

// Worker binaries looked for beside the wwly binary (make build puts them there).
const (
	LeanWorkerName  = "wwly-worker"       // cmd/wwly-worker built with tag wwlylean
	RedisWorkerName = "wwly-worker-redis" // built with tags wwlylean,wwlyredis: lean + the Redis peers
	NetWorkerName   = "wwly-worker-net"   // cmd/wwly-worker with every backend
)

// WorkerCommandFor returns how to start one worker process for backend, and the path it runs:
// the lean worker beside binary when it links the backend (bench.InLeanWorker), else the Redis
// worker when it does (bench.InRedisWorker), else the full worker beside binary, else binary's
// own hidden `worker` command. A lean worker costs a
// fraction of the whole wwly binary in start-up time and memory, which W=2000 multiplies.
func WorkerCommandFor(binary, backend string) (func() *exec.Cmd, string) {
	dir := filepath.Dir(binary)
	var names []string
	if bench.InLeanWorker(backend) {
		names = append(names, LeanWorkerName)
	}
	if bench.InRedisWorker(backend) {
		names = append(names, RedisWorkerName)
	}
	for _, n := range append(names, NetWorkerName) {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return func() *exec.Cmd { return exec.Command(p) }, p
		}
	}
	return func() *exec.Cmd { return exec.Command(binary, "worker") }, binary + " worker"
}

func modeOf(rate float64) string {
	if rate > 0 {
		return "open"
	}
	return "closed"
}

// cellLine is the one-line result of a cell; failures are red and loud.
func cellLine(label string, c *Cell, exclusive bool) string {
	if c.Failed != "" {
		return fmt.Sprintf("\x1b[1;31mFAILED %s: %s\x1b[0m", label, c.Failed)
	}
	if c.Insufficient != "" {
		// Not a result: no throughput, percentiles or Jain, only the reason.
		return fmt.Sprintf("\x1b[1;33mNOT A RESULT %s: %s\x1b[0m (errors %d, violations %d, spawn %v)", label,
			c.Insufficient, c.Errors, c.Violations, time.Duration(c.SpawnNs).Round(time.Millisecond))
	}
	tail := fmt.Sprintf("p50 %s p99 %s max %s, jain %.3f", FormatNs(c.Latency.P50), FormatNs(c.Latency.P99),
		FormatNs(c.Latency.Max), c.Jain)
	if !c.Conclusive {
		tail = fmt.Sprintf("p99/jain n/a: %d of %d workers below %d ops", c.BelowMin(), c.Workers, c.MinOpsPerWorker)
	}
	s := fmt.Sprintf("%s: %s ops/s in %v, %s, violations %d, errors %d, spawn %v barrier %v, worker rss %s pss %s",
		label, FormatCount(c.OpsPerSec), time.Duration(c.DurationNs).Round(time.Millisecond), tail,
		c.Violations, c.Errors, time.Duration(c.SpawnNs).Round(time.Millisecond),
		time.Duration(c.BarrierNs).Round(time.Millisecond), FormatBytes(c.WorkerRSSBytes), FormatBytes(c.WorkerPSSBytes))
	if c.WorkersReused {
		s += " (workers reused from the previous cell)"
	}
	if c.ServerRSSBytes > 0 {
		s += ", server rss " + FormatBytes(c.ServerRSSBytes)
	}
	if c.ConnectRetries > 0 {
		s += fmt.Sprintf(", %d connect retries", c.ConnectRetries)
	}
	if c.StartSkewNs > 0 {
		s += ", start skew " + FormatNs(c.StartSkewNs)
	}
	if !exclusive && c.Violations > 0 {
		s += " (not a lock: violations expected)"
	}
	if c.FirstError != "" {
		s += "; first error: " + c.FirstError
	}
	return s
}

// Verdict says whether a run passed: every cell that ran is clean (no failure, no violation in
// an exclusive backend — RunCell marks those failed), and the none control, when it ran with
// W > 1, was caught. A cell with too few ops (Insufficient) does not fail the run — a backend
// too slow at some scale is a finding, shown as such — but it never counts as the control's
// catch.
func Verdict(run *Run) error {
	var failed []string
	controlRan, controlCaught := false, false
	for _, c := range run.Cells {
		if c.Failed != "" {
			failed = append(failed, fmt.Sprintf("%s W=%d L=%d: %s", c.Backend, c.Workers, c.Locks, firstLine(c.Failed)))
		}
		if c.Backend == "none" && c.Workers > 1 && c.IsResult() {
			controlRan = true
			controlCaught = controlCaught || c.Violations > 0
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w: %d cells: %s", ErrFailed, len(failed), strings.Join(failed, "; "))
	}
	if controlRan && !controlCaught {
		return fmt.Errorf("%w: the checker was never seen to fail, so clean results prove nothing", ErrControlClean)
	}
	return nil
}

func writeRun(dir string, run *Run) error {
	if err := runfile.Write(dir, run); err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	return nil
}

// ReadRun loads a run.json (any version runfile reads, upgraded to the current one).
func ReadRun(path string) (*Run, error) { return runfile.Read(path) }

// linkLatest points root/latest at dir when dir is directly inside root.
func linkLatest(root, dir string) error {
	absRoot, err1 := filepath.Abs(root)
	absDir, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil || filepath.Dir(absDir) != absRoot {
		return nil
	}
	link := filepath.Join(root, "latest")
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(absDir), tmp); err != nil {
		return fmt.Errorf("loadgen: link latest: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("loadgen: link latest: %w", err)
	}
	return nil
}
