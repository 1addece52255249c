package loadgen

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/sys/unix"
)

// Reporter shows a run's progress to a person: bars on a terminal, plain lines elsewhere, both
// with the run's overall progress ("cell 3 of 15, ETA 42s"). Implementations are safe for
// concurrent use.
type Reporter interface {
	// Logf prints one line (above the bars, on a terminal).
	Logf(format string, args ...any)
	// Plan announces the run before its first cell: how many cells it has and a lower bound of
	// one cell's time (warm-up plus window), which the ETA uses until a cell has finished.
	// Without a Plan there is no overall progress, only the cells'.
	Plan(cells int, perCell time.Duration)
	// Cell starts the progress display of the next cell.
	Cell(label string) Progress
	// Skip counts cells that will not run (their backend was skipped or did not start), so the
	// cell count and the ETA stay right.
	Skip(cells int)
	// Close removes the bars; the Reporter must not be used afterwards.
	Close()
}

// Progress is one cell's live display. RunCell calls it from one goroutine.
type Progress interface {
	// Phase names what the cell is doing; total > 0 starts a counter to that total.
	Phase(name string, total int)
	// Progress moves the counter.
	Progress(n int)
	// Rate reports live throughput elapsed into the measured window.
	Rate(opsPerSec float64, elapsed time.Duration)
	// Done ends the display of this cell.
	Done()
}

type nopProgress struct{}

func (nopProgress) Phase(string, int)           {}
func (nopProgress) Progress(int)                {}
func (nopProgress) Rate(float64, time.Duration) {}
func (nopProgress) Done()                       {}

// NewReporter picks bars when out is a terminal and CI is not "true", plain lines otherwise.
func NewReporter(out io.Writer) Reporter {
	if f, ok := out.(*os.File); ok && os.Getenv("CI") != "true" && isTerminal(f) {
		return newBarReporter(out)
	}
	return newLineReporter(out, time.Now)
}

// DefaultInterval is a cell's progress and hlog interval when none is given: about a twentieth
// of the window, so throughput over time has enough points to show a stall, between 100 ms and
// 1 s, a multiple of 50 ms so intervals start on round times. The worker count no longer matters:
// workers send their intervals once, after the window (intervalrec.go). While they sent one
// message per interval, 2000 messages a second at W = 64 cut futex-fifo from 13.3k to 1.8k ops/s,
// and even the 64-a-second budget that replaced them cost a futex-fifo worker a fifth of its CPU
// in histogram encoding (docs/harness.md). workers is kept for callers; it is unused.
func DefaultInterval(window time.Duration, workers int) time.Duration {
	_ = workers
	const (
		floor = 100 * time.Millisecond
		ceil  = time.Second
		step  = 50 * time.Millisecond
	)
	iv := max(window/20, floor)
	iv = (iv + step - 1) / step * step
	return min(iv, ceil)
}

// overall is the run's progress across cells. Its methods are safe for concurrent use; the
// zero value reads the wall clock.
type overall struct {
	now func() time.Time // nil: time.Now

	mu       sync.Mutex
	total    int           // cells in the run; 0 until Plan
	perCell  time.Duration // lower bound of one cell, used until a cell finished
	started  int           // cells begun (Cell calls)
	skipped  int
	finished int
	spent    time.Duration // wall time of the finished cells
	cellT0   time.Time     // start of the current cell
}

// clock reads o.now; o.mu must be held.
func (o *overall) clock() time.Time {
	if o.now == nil {
		return time.Now()
	}
	return o.now()
}

func (o *overall) plan(cells int, perCell time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.total, o.perCell = cells, perCell
}

func (o *overall) totalCells() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.total
}

func (o *overall) skip(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.skipped += n
}

// begin counts a new cell and returns its number (1-based, skipped cells included).
func (o *overall) begin() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started++
	o.cellT0 = o.clock()
	return o.started + o.skipped
}

func (o *overall) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.finished++
	o.spent += o.clock().Sub(o.cellT0)
}

// status is "cell 3 of 15, ETA 42s" for cell i, or "" without a Plan. The ETA is the cells not
// yet finished times the mean time of the finished ones (the planned lower bound until one
// has), less the time the current cell has already run.
func (o *overall) status(i int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.total <= 0 {
		return ""
	}
	per := o.perCell
	if o.finished > 0 {
		per = o.spent / time.Duration(o.finished)
	}
	left := max(o.total-o.skipped-o.finished, 0)
	eta := time.Duration(left) * per
	if o.started > o.finished {
		eta -= o.clock().Sub(o.cellT0)
	}
	return fmt.Sprintf("cell %d of %d, ETA %s", i, max(o.total, i), fmtETA(eta))
}

// fmtETA rounds an ETA to whole seconds: "42s", "3m05s", "1h02m".
func fmtETA(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlReadTermios)
	return err == nil
}

// lineReporter prints plain log lines (CI, pipes, files): one "cell i of N, ETA" line as each
// cell starts, its phases, and its live rate about once a second.
type lineReporter struct {
	mu  sync.Mutex
	out io.Writer
	all overall
}

func newLineReporter(out io.Writer, now func() time.Time) *lineReporter {
	return &lineReporter{out: out, all: overall{now: now}}
}

func (r *lineReporter) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format+"\n", args...)
}

func (r *lineReporter) Plan(cells int, perCell time.Duration) { r.all.plan(cells, perCell) }
func (r *lineReporter) Skip(cells int)                        { r.all.skip(cells) }
func (r *lineReporter) Close()                                {}

func (r *lineReporter) Cell(label string) Progress {
	if st := r.all.status(r.all.begin()); st != "" {
		r.Logf("%s: %s", st, label)
	}
	return &lineProgress{r: r, label: label}
}

type lineProgress struct {
	r       *lineReporter
	label   string
	phase   string
	total   int
	t0      time.Time
	rateSec int // whole seconds into the window of the last rate line
}

func (p *lineProgress) Phase(name string, total int) {
	p.phase, p.total, p.t0 = name, total, time.Now()
	if total == 0 {
		p.r.Logf("  %s: %s", p.label, name)
	}
}

func (p *lineProgress) Progress(n int) {
	// Large spawns log every tenth, so a long wait shows it is moving.
	if p.total >= 100 && n < p.total && n*10/p.total != (n-1)*10/p.total {
		p.r.Logf("  %s: %s: %d/%d after %v", p.label, p.phase, n, p.total, time.Since(p.t0).Round(time.Millisecond))
	}
	if n == p.total {
		p.r.Logf("  %s: %s: %d done in %v", p.label, p.phase, n, time.Since(p.t0).Round(time.Millisecond))
	}
}

// Rate logs at most one line per second of the window: the interval may be 100 ms, and a CI
// log needs a pulse, not every tick.
func (p *lineProgress) Rate(ops float64, el time.Duration) {
	if s := int(el / time.Second); s > p.rateSec {
		p.rateSec = s
		p.r.Logf("  %s: %5.1fs %s ops/s", p.label, el.Seconds(), FormatCount(ops))
	}
}

func (p *lineProgress) Done() { p.r.all.finish() }

// barReporter draws mpb bars: one for the whole run ("cell i of N, ETA", from Plan) and one per
// cell, re-labelled as the cell moves through its phases.
type barReporter struct {
	p   *mpb.Progress
	all overall

	mu  sync.Mutex
	run *mpb.Bar // nil until Plan
	cur int      // number of the current cell
}

// newBarReporter draws on out; opts add to the defaults (tests pass mpb.WithAutoRefresh, as
// mpb draws nothing on a writer that is not a terminal otherwise).
func newBarReporter(out io.Writer, opts ...mpb.ContainerOption) *barReporter {
	opts = append([]mpb.ContainerOption{mpb.WithOutput(out), mpb.WithWidth(40), mpb.WithRefreshRate(200 * time.Millisecond)}, opts...)
	return &barReporter{
		p:   mpb.New(opts...),
		all: overall{now: time.Now},
	}
}

func (r *barReporter) Logf(format string, args ...any) { fmt.Fprintf(r.p, format+"\n", args...) }

func (r *barReporter) Plan(cells int, perCell time.Duration) {
	r.all.plan(cells, perCell)
	text := func(decor.Statistics) string {
		r.mu.Lock()
		i := r.cur
		r.mu.Unlock()
		return r.all.status(max(i, 1))
	}
	bar := r.p.AddBar(int64(cells),
		mpb.PrependDecorators(decor.Any(text, decor.WC{W: 52, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.CountersNoUnit("%d / %d")),
	)
	r.mu.Lock()
	r.run = bar
	r.mu.Unlock()
}

func (r *barReporter) Skip(cells int) {
	r.all.skip(cells)
	r.advance(cells)
}

// advance moves the run bar by n finished or skipped cells.
func (r *barReporter) advance(n int) {
	r.mu.Lock()
	bar := r.run
	r.mu.Unlock()
	if bar != nil {
		bar.IncrBy(n)
	}
}

func (r *barReporter) Cell(label string) Progress {
	i := r.all.begin()
	r.mu.Lock()
	r.cur = i
	planned := r.run != nil
	r.mu.Unlock()
	if planned {
		label = fmt.Sprintf("[%d/%d] %s", i, r.all.totalCells(), label)
	}
	bp := &barProgress{label: label, r: r}
	bp.bar = r.p.AddBar(0,
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return bp.text() }, decor.WC{W: 52, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.CountersNoUnit("%d / %d")),
		mpb.BarRemoveOnComplete(),
	)
	return bp
}

func (r *barReporter) Close() {
	r.mu.Lock()
	bar := r.run
	r.mu.Unlock()
	if bar != nil {
		// Cells cut short (an interrupted run) leave the run bar short: end it anyway.
		bar.Abort(false)
	}
	r.p.Shutdown()
}

type barProgress struct {
	bar   *mpb.Bar
	label string
	r     *barReporter

	mu    sync.Mutex
	phase string
	rate  string
}

func (b *barProgress) text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("%s %s %s", b.label, b.phase, b.rate)
}

func (b *barProgress) Phase(name string, total int) {
	b.mu.Lock()
	b.phase = name
	b.mu.Unlock()
	b.bar.SetCurrent(0)
	b.bar.SetTotal(int64(total), false)
}

func (b *barProgress) Progress(n int) { b.bar.SetCurrent(int64(n)) }

func (b *barProgress) Rate(ops float64, el time.Duration) {
	b.mu.Lock()
	b.rate = fmt.Sprintf("%5.1fs %s ops/s", el.Seconds(), FormatCount(ops))
	b.mu.Unlock()
}

func (b *barProgress) Done() {
	b.bar.SetTotal(-1, true)
	b.r.all.finish()
	b.r.advance(1)
}

// FormatCount renders a count with a k/M suffix ("1.23M").
func FormatCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
