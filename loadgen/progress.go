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

// Reporter shows a run's progress to a person: bars on a terminal, plain lines elsewhere.
// Implementations are safe for concurrent use.
type Reporter interface {
	// Logf prints one line (above the bars, on a terminal).
	Logf(format string, args ...any)
	// Cell starts the progress display of one cell.
	Cell(label string) Progress
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
	return &lineReporter{out: out}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// lineReporter prints plain log lines (CI, pipes, files).
type lineReporter struct {
	mu  sync.Mutex
	out io.Writer
}

func (r *lineReporter) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format+"\n", args...)
}

func (r *lineReporter) Cell(label string) Progress { return &lineProgress{r: r, label: label} }
func (r *lineReporter) Close()                     {}

type lineProgress struct {
	r     *lineReporter
	label string
	phase string
	total int
	t0    time.Time
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

func (p *lineProgress) Rate(ops float64, el time.Duration) {
	p.r.Logf("  %s: %5.1fs %s ops/s", p.label, el.Seconds(), FormatCount(ops))
}

func (p *lineProgress) Done() {}

// barReporter draws mpb bars: one per cell, re-labelled as the cell moves through its phases.
type barReporter struct {
	p *mpb.Progress
}

func newBarReporter(out io.Writer) *barReporter {
	return &barReporter{p: mpb.New(mpb.WithOutput(out), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))}
}

func (r *barReporter) Logf(format string, args ...any) { fmt.Fprintf(r.p, format+"\n", args...) }

func (r *barReporter) Cell(label string) Progress {
	bp := &barProgress{label: label}
	bp.bar = r.p.AddBar(0,
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return bp.text() }, decor.WC{W: 52, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.CountersNoUnit("%d / %d")),
		mpb.BarRemoveOnComplete(),
	)
	return bp
}

func (r *barReporter) Close() {
	r.p.Shutdown()
}

type barProgress struct {
	bar   *mpb.Bar
	label string

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

func (b *barProgress) Done() { b.bar.SetTotal(-1, true) }

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
