package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range: latencies in nanoseconds from 1 µs to 60 s with 3 significant digits. Values
// outside are clamped so a pathological op is still counted (as the range's edge).
const (
	histLowest  = int64(1_000)
	histHighest = int64(60_000_000_000)
	histSigFigs = 3
)

// ErrHistogram marks an encoded histogram that does not decode or does not fit the range.
var ErrHistogram = errors.New("loadgen: bad histogram")

// NewHistogram returns an empty latency histogram with the harness's range.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// Record adds one latency, clamped to the histogram's range.
func Record(h *hdrhistogram.Histogram, ns int64) {
	if ns < 1 {
		ns = 1
	}
	if ns > histHighest {
		ns = histHighest
	}
	_ = h.RecordValue(ns) // cannot fail: ns is in range
}

// Counts is a histogram of the harness's range (NewHistogram) as it travels from a worker to the
// coordinator: the non-zero entries of its HdrHistogram counts array as (index, count) pairs.
// Every worker's histograms have the same range, so indexes mean the same everywhere and the
// coordinator merges by adding counts. HdrHistogram's compressed form (zlib + base64) cost each
// worker a zlib writer's allocations and a walk of every bucket; with 2000 workers finishing
// together that CPU burst delayed the last grants of a cell by tens of seconds (docs/harness.md).
type Counts []int64

// countsLen is the length of the counts array of a NewHistogram.
var countsLen = sync.OnceValue(func() int { return len(NewHistogram().Export().Counts) })

// CountsOf returns h's non-zero counts (h must come from NewHistogram).
func CountsOf(h *hdrhistogram.Histogram) Counts {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	var out Counts
	for i, n := range h.Export().Counts {
		if n != 0 {
			out = append(out, int64(i), n)
		}
	}
	return out
}

// validate checks what a decoder cannot: pairs complete, indexes in range and rising, counts
// positive. It returns the total count.
func (c Counts) validate() (int64, error) {
	if len(c)%2 != 0 {
		return 0, fmt.Errorf("%w: %d count words, want pairs", ErrHistogram, len(c))
	}
	var total int64
	last := int64(-1)
	for i := 0; i < len(c); i += 2 {
		idx, n := c[i], c[i+1]
		if idx <= last || idx >= int64(countsLen()) || n <= 0 || total+n < total {
			return 0, fmt.Errorf("%w: pair %d (index %d, count %d) out of range or order", ErrHistogram, i/2, idx, n)
		}
		last, total = idx, total+n
	}
	return total, nil
}

// CountsSum adds the sparse counts of many histograms; Histogram turns the sum into one.
type CountsSum struct{ counts []int64 }

// Add adds c (already validated by DecodeMessage, re-checked here for direct callers).
func (s *CountsSum) Add(c Counts) error {
	if _, err := c.validate(); err != nil {
		return err
	}
	if s.counts == nil {
		s.counts = make([]int64, countsLen())
	}
	for i := 0; i < len(c); i += 2 {
		s.counts[c[i]] += c[i+1]
	}
	return nil
}

// Histogram is the sum as an HdrHistogram of the harness's range.
func (s *CountsSum) Histogram() *hdrhistogram.Histogram {
	if s.counts == nil {
		return NewHistogram()
	}
	return hdrhistogram.Import(&hdrhistogram.Snapshot{LowestTrackableValue: histLowest,
		HighestTrackableValue: histHighest, SignificantFigures: histSigFigs, Counts: s.counts})
}

// PercentilesOf reads the report's percentiles from h (all zero for an empty histogram).
func PercentilesOf(h *hdrhistogram.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		P50:  h.ValueAtQuantile(50),
		P90:  h.ValueAtQuantile(90),
		P99:  h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9),
		Max:  h.Max(),
	}
}

// IntervalLog writes a cell's per-second acquire-latency histograms as an HdrHistogram
// interval log (.hlog). It is not safe for concurrent use.
type IntervalLog struct {
	w   *hdrhistogram.HistogramLogWriter
	tag string
}

// NewIntervalLog starts a log on out: version, start time (ms since the epoch) and legend.
func NewIntervalLog(out io.Writer, startMs int64, tag, comment string) (*IntervalLog, error) {
	w := hdrhistogram.NewHistogramLogWriter(out)
	if comment != "" {
		if err := w.OutputComment(comment); err != nil {
			return nil, err
		}
	}
	if err := w.OutputLogFormatVersion(); err != nil {
		return nil, err
	}
	if err := w.OutputStartTime(startMs); err != nil {
		return nil, err
	}
	w.SetBaseTime(startMs)
	if err := w.OutputBaseTime(startMs); err != nil {
		return nil, err
	}
	if err := w.OutputLegend(); err != nil {
		return nil, err
	}
	return &IntervalLog{w: w, tag: tag}, nil
}

// Write appends one interval [startMs, endMs) (absolute ms since the epoch).
func (l *IntervalLog) Write(h *hdrhistogram.Histogram, startMs, endMs int64) error {
	h.SetTag(l.tag)
	h.SetStartTimeMs(startMs)
	h.SetEndTimeMs(endMs)
	return l.w.OutputIntervalHistogram(h)
}

// Jain is Jain's fairness index over per-worker op counts: 1 when all are equal, 1/n when one
// worker did everything; 0 for no ops at all.
func Jain(ops []int64) float64 {
	var sum, sq float64
	for _, o := range ops {
		f := float64(o)
		sum += f
		sq += f * f
	}
	if sq == 0 || len(ops) == 0 {
		return 0
	}
	j := sum * sum / (float64(len(ops)) * sq)
	return math.Round(j*1e6) / 1e6
}
