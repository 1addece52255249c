package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"
)

func TestLineReporter(t *testing.T) {
	var out bytes.Buffer
	r := NewReporter(&out) // not a terminal: plain lines
	p := r.Cell("flock W=200 L=1")
	p.Phase("spawning 200 workers", 200)
	for i := 1; i <= 200; i++ {
		p.Progress(i)
	}
	p.Phase("measuring", 0)
	p.Rate(123456, 1500*time.Millisecond)
	p.Rate(1, 1600*time.Millisecond) // same second: no line
	p.Done()
	r.Logf("done %d", 1)
	r.Close()
	got := out.String()
	for _, want := range []string{"20/200 after", "180/200 after", "200 done in", "measuring", "123.5k ops/s", "done 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// No Plan: no overall line.
	if strings.Contains(got, "cell 1") {
		t.Errorf("overall progress without a Plan:\n%s", got)
	}
	if n := strings.Count(got, "\n"); n != 13 {
		t.Errorf("%d lines, want 13:\n%s", n, got)
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock           { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func lastLine(b *bytes.Buffer) string {
	l := strings.Split(strings.TrimSpace(b.String()), "\n")
	return l[len(l)-1]
}
func cellRun(r Reporter, c *fakeClock, label string, took time.Duration) {
	p := r.Cell(label)
	c.add(took)
	p.Done()
}

// The plain reporter says "cell i of N, ETA" as each cell starts: the planned lower bound per
// cell until one has finished, then the mean of the finished cells; skipped cells count.
func TestLineReporterOverall(t *testing.T) {
	var out bytes.Buffer
	c := newFakeClock()
	r := newLineReporter(&out, c.now)
	r.Plan(6, 2*time.Second)
	steps := []struct {
		skip  int
		label string
		took  time.Duration
		want  string
	}{
		{0, "wwly W=1 L=1", 3 * time.Second, "cell 1 of 6, ETA 12s: wwly W=1 L=1"},
		{0, "wwly W=8 L=1", 5 * time.Second, "cell 2 of 6, ETA 15s: wwly W=8 L=1"},   // 5 left × 3 s
		{2, "flock W=1 L=1", 4 * time.Second, "cell 5 of 6, ETA 8s: flock W=1 L=1"},  // 2 skipped; 2 left × 4 s
		{0, "flock W=8 L=1", 70 * time.Second, "cell 6 of 6, ETA 4s: flock W=8 L=1"}, // 1 left × 4 s
	}
	for _, st := range steps {
		if st.skip > 0 {
			r.Skip(st.skip)
		}
		p := r.Cell(st.label)
		if got := lastLine(&out); got != st.want {
			t.Errorf("got %q, want %q", got, st.want)
		}
		c.add(st.took)
		p.Done()
	}
}

func TestOverallStatus(t *testing.T) {
	c := newFakeClock()
	o := overall{now: c.now}
	if got := o.status(1); got != "" {
		t.Errorf("status without a plan = %q, want empty", got)
	}
	o.plan(3, 10*time.Second)
	i := o.begin()
	c.add(4 * time.Second)
	if got, want := o.status(i), "cell 1 of 3, ETA 26s"; got != want { // 3 × 10 s − 4 s into the cell
		t.Errorf("got %q, want %q", got, want)
	}
	c.add(time.Hour) // a cell far slower than planned: the ETA never goes negative
	if got, want := o.status(i), "cell 1 of 3, ETA 0s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestFmtETA(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {0, "0s"}, {1400 * time.Millisecond, "1s"}, {59 * time.Second, "59s"},
		{65 * time.Second, "1m05s"}, {3723 * time.Second, "1h02m"},
	}
	for _, tt := range tests {
		if got := fmtETA(tt.d); got != tt.want {
			t.Errorf("fmtETA(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// The bar reporter (what a terminal gets) shows the same overall progress: a run bar with
// "cell i of N, ETA" and "[i/N]" on each cell's bar.
func TestBarReporterOverall(t *testing.T) {
	var out bytes.Buffer
	r := newBarReporter(&out, mpb.WithAutoRefresh())
	r.Plan(2, time.Second)
	for _, label := range []string{"wwly W=1 L=1", "wwly W=8 L=1"} {
		p := r.Cell(label)
		p.Phase("measuring", 0)
		p.Rate(1000, time.Second)
		// Long enough for at least one refresh (200 ms), bounded.
		time.Sleep(250 * time.Millisecond)
		p.Done()
	}
	r.Close()
	got := out.String()
	for _, want := range []string{"cell 1 of 2, ETA", "[1/2] wwly W=1 L=1", "[2/2] wwly W=8 L=1"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output lacks %q:\n%q", want, got)
		}
	}
}

func TestDefaultInterval(t *testing.T) {
	tests := []struct {
		window  time.Duration
		workers int
		want    time.Duration
	}{
		{1500 * time.Millisecond, 1, 100 * time.Millisecond},
		{2 * time.Second, 4, 100 * time.Millisecond},
		{2 * time.Second, 8, 100 * time.Millisecond},
		{3 * time.Second, 8, 150 * time.Millisecond},
		{5 * time.Second, 20, 250 * time.Millisecond},
		{4100 * time.Millisecond, 64, 250 * time.Millisecond}, // 205 ms, rounded up
		{2 * time.Second, 1000, 100 * time.Millisecond},
		{time.Minute, 8, time.Second},
		{2 * time.Second, 100000, 100 * time.Millisecond},
		{0, 0, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := DefaultInterval(tt.window, tt.workers); got != tt.want {
			t.Errorf("DefaultInterval(%v, %d) = %v, want %v", tt.window, tt.workers, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatCount(999), "999"},
		{FormatCount(12345), "12.3k"},
		{FormatCount(2.5e6), "2.50M"},
		{FormatNs(850), "<1µs"},
		{FormatNs(1), "<1µs"},
		{FormatNs(0), "0"},
		{FormatNs(-5), "0"},
		{FormatNs(1_000), "1µs"},
		{FormatNs(12_300), "12.3µs"},
		{FormatNs(182_345), "182µs"},
		{FormatNs(999_600), "1ms"},
		{FormatNs(4_560_000), "4.56ms"},
		{FormatNs(10_000_000), "10ms"},
		{FormatNs(1_200_000_000), "1.2s"},
		{FormatNs(75_000_000_000), "75s"},
		{FormatBytes(3 << 20), "3.0MiB"},
		{FormatBytes(512 << 10), "512KiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
