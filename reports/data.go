// Package reports turns a finished `wwly bench` run directory into human-readable reports:
// report.md (tables), report.html (self-contained, with gonum plots inlined as SVG) and one
// HdrHistogram .hgrm percentile distribution per cell.
//
// A report is a pure function of the run directory: run.json (loadgen.Run) and the per-cell
// HdrHistogram interval logs (.hlog). Nothing is measured here, so a run can be re-rendered any
// number of times, and rendering the same directory twice gives byte-identical files.
//
// Typical use:
//
//	data, err := reports.Load(dir)
//	if err != nil { ... }
//	paths, err := reports.Render(dir, data)
package reports

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wwly/wwly/loadgen"
	"github.com/wwly/wwly/runfile"
)

// RunFile is the name of the run description inside a run directory.
const RunFile = runfile.Name

// Errors returned by Load; test with errors.Is.
var (
	// ErrNoRun means the directory has no readable run.json.
	ErrNoRun = errors.New("reports: no run.json")
	// ErrBadRun means run.json exists but does not decode, or has an unsupported schema version.
	ErrBadRun = errors.New("reports: bad run.json")
	// ErrBadHlog means a cell's interval log could not be read. Load does not fail on it: the
	// error is kept in Cell.HlogErr and the report shows it next to the cell.
	ErrBadHlog = errors.New("reports: bad hlog")
)

// Data is everything a report is rendered from. Load builds it; Render only reads it.
// A Data is not safe for concurrent mutation, but concurrent Render calls on an unmodified Data
// are fine.
type Data struct {
	// Dir is the run directory Data was loaded from (informational; Render takes its own dir).
	Dir string
	// Run is run.json as written by `wwly bench`.
	Run loadgen.Run
	// Cells are in the order of Run.Cells, one per cell.
	Cells []Cell
}

// Cell is one measured cell with what its interval log adds.
type Cell struct {
	loadgen.Cell
	// Hist is every interval of the cell's hlog merged; nil when the cell has no hlog (skipped,
	// failed early) or the hlog could not be read.
	Hist *hdrhistogram.Histogram
	// Intervals are the hlog's interval histograms, summarised, in file order.
	Intervals []Interval
	// HlogErr is non-nil when the cell names an hlog that could not be read (wraps ErrBadHlog).
	HlogErr error
}

// Interval summarises one interval histogram of an hlog.
type Interval struct {
	// StartSec is the interval start in seconds since the first interval of the same log.
	StartSec float64
	// LengthSec is the interval length in seconds.
	LengthSec float64
	// Count is how many acquires completed in the interval.
	Count int64
	// MaxNs is the largest latency in the interval, in nanoseconds.
	MaxNs int64
}

// OpsPerSec is the interval's throughput; 0 for a zero-length interval.
func (iv Interval) OpsPerSec() float64 {
	if iv.LengthSec <= 0 {
		return 0
	}
	return float64(iv.Count) / iv.LengthSec
}

// Ran reports whether the cell produced measurements worth tabulating and plotting: it was
// neither skipped nor failed.
func (c *Cell) Ran() bool { return c.Skipped == "" && c.Failed == "" }

// Load reads dir/run.json and every cell's hlog. It fails only when run.json is missing or
// unreadable (ErrNoRun, ErrBadRun); a broken hlog is recorded in the cell's HlogErr so the
// rest of the run can still be reported.
func Load(dir string) (*Data, error) {
	rp, err := runfile.Read(filepath.Join(dir, RunFile))
	switch {
	case errors.Is(err, runfile.ErrNotFound):
		return nil, fmt.Errorf("%w in %s: %w", ErrNoRun, dir, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrBadRun, err)
	}
	run := *rp
	d := &Data{Dir: dir, Run: run, Cells: make([]Cell, len(run.Cells))}
	for i, rc := range run.Cells {
		c := Cell{Cell: rc}
		if rc.Hlog != "" && rc.Skipped == "" {
			c.Hist, c.Intervals, c.HlogErr = readHlogFile(dir, rc.Hlog)
		}
		d.Cells[i] = c
	}
	return d, nil
}

// readHlogFile reads a run-relative hlog path. The path must stay inside the run directory:
// run.json is data, and a report must never be steered into reading arbitrary files.
func readHlogFile(dir, rel string) (*hdrhistogram.Histogram, []Interval, error) {
	if filepath.IsAbs(rel) || !filepath.IsLocal(rel) {
		return nil, nil, fmt.Errorf("%w: %q is not a path inside the run directory", ErrBadHlog, rel)
	}
	f, err := os.Open(filepath.Join(dir, rel))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadHlog, err)
	}
	defer f.Close()
	h, ivs, err := ReadHlog(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", rel, err)
	}
	return h, ivs, nil
}

// maxIntervals bounds how many intervals one hlog may hold (a day of 1 s intervals), so a
// corrupt or hostile file cannot make the reader loop or allocate without end.
const maxIntervals = 86400

// ReadHlog decodes an HdrHistogram interval log (as written by hdrhistogram-go's
// HistogramLogWriter) and returns all intervals merged plus a per-interval summary. An empty
// log gives a nil histogram and no error. Values that do not fit the first interval's
// geometry are an error, not silently dropped.
func ReadHlog(r io.Reader) (*hdrhistogram.Histogram, []Interval, error) {
	lr := hdrhistogram.NewHistogramLogReader(r)
	var (
		merged  *hdrhistogram.Histogram
		ivs     []Interval
		firstMs int64
	)
	for n := 0; ; n++ {
		if n > maxIntervals {
			return nil, nil, fmt.Errorf("%w: more than %d intervals", ErrBadHlog, maxIntervals)
		}
		h, err := nextInterval(lr)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: interval %d: %w", ErrBadHlog, n, err)
		}
		if h == nil {
			break
		}
		if merged == nil {
			merged = h.Clone()
			firstMs = h.StartTimeMs()
		} else if dropped := merged.Merge(h); dropped != 0 {
			return nil, nil, fmt.Errorf("%w: interval %d: %d values outside the histogram range", ErrBadHlog, n, dropped)
		}
		ivs = append(ivs, Interval{
			StartSec:  float64(h.StartTimeMs()-firstMs) / 1000,
			LengthSec: float64(h.EndTimeMs()-h.StartTimeMs()) / 1000,
			Count:     h.TotalCount(),
			MaxNs:     h.Max(),
		})
	}
	return merged, ivs, nil
}

// nextInterval wraps the log reader, which panics on some malformed lines in older releases;
// a report renderer must turn bad input into an error, not a crash.
func nextInterval(lr *hdrhistogram.HistogramLogReader) (h *hdrhistogram.Histogram, err error) {
	defer func() {
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("malformed line: %v", p)
		}
	}()
	return lr.NextIntervalHistogram()
}

// hgrmPath is where the .hgrm of a cell goes: next to its hlog, same base name.
func hgrmPath(hlog string) string {
	return strings.TrimSuffix(hlog, filepath.Ext(hlog)) + ".hgrm"
}
