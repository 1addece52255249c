package loadgen

import (
	"errors"
	"fmt"
	"io"
	"math"

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

// EncodeHistogram renders h in HdrHistogram's compressed base64 form (what .hlog files hold).
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("%w: encode: %w", ErrHistogram, err)
	}
	return string(b), nil
}

// DecodeHistogram reads what EncodeHistogram wrote. An empty string is an empty histogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHistogram, err)
	}
	return h, nil
}

// MergeInto adds src into dst and fails if any value had to be dropped (src's range exceeds
// dst's), so a merge never loses counts silently.
func MergeInto(dst, src *hdrhistogram.Histogram) error {
	if d := dst.Merge(src); d != 0 {
		return fmt.Errorf("%w: %d values dropped while merging", ErrHistogram, d)
	}
	return nil
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
