package loadgen

// A worker's per-interval latencies, kept cheaply during the window and sent once, in the final
// message. Encoding an HdrHistogram (zlib + base64, ~140 KB of counts to scan and allocate) at
// every interval boundary cost a futex-fifo worker a fifth of its CPU and fed the GC the rest:
// the harness was measuring itself (docs/harness.md). Here recording is an array increment,
// closing an interval touches only the buckets it used, and nothing is encoded until the window
// is over.

import (
	"fmt"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wwly/wwly/internal/loglin"
)

// Interval buckets are package loglin's log-linear ones (under 0.8 % relative error, ample for a
// per-interval log; the cell's own histograms keep HdrHistogram's 3 digits).
const intervalBuckets = loglin.Buckets

// intervalBucket is the bucket of a latency of ns nanoseconds (negative counts as 0).
func intervalBucket(ns int64) int { return loglin.Index(uint64(max(ns, 0))) }

// intervalBucketValue is the value bucket i stands for (its middle).
func intervalBucketValue(i int) int64 { return int64(loglin.Mid(i)) }

// IntervalCounts is one worker's acquire latencies within interval K of the measured window.
type IntervalCounts struct {
	K   int   `json:"k"`
	Ops int64 `json:"ops"`
	// Buckets holds (bucket, count) pairs of the log-linear interval histogram.
	Buckets []uint32 `json:"b"`
}

// validate checks what a decoder cannot: indexes in range, pairs complete, counts adding up.
func (c *IntervalCounts) validate() error {
	if c.K < 0 || c.Ops < 0 || len(c.Buckets)%2 != 0 {
		return fmt.Errorf("%w: interval k=%d ops=%d with %d bucket words", ErrProtocol, c.K, c.Ops, len(c.Buckets))
	}
	var n int64
	for i := 0; i < len(c.Buckets); i += 2 {
		if c.Buckets[i] >= intervalBuckets {
			return fmt.Errorf("%w: interval k=%d: bucket %d out of range", ErrProtocol, c.K, c.Buckets[i])
		}
		n += int64(c.Buckets[i+1])
	}
	if n != c.Ops {
		return fmt.Errorf("%w: interval k=%d: buckets count %d ops, not %d", ErrProtocol, c.K, n, c.Ops)
	}
	return nil
}

// AddTo records the interval's latencies into h (clamped to its range).
func (c *IntervalCounts) AddTo(h *hdrhistogram.Histogram) {
	for i := 0; i+1 < len(c.Buckets); i += 2 {
		v := min(max(intervalBucketValue(int(c.Buckets[i])), 1), histHighest)
		_ = h.RecordValues(v, int64(c.Buckets[i+1])) // in range: clamped above
	}
}

// intervalRec accumulates one worker's intervals. Used by one goroutine.
type intervalRec struct {
	counts  [intervalBuckets]uint32
	touched []uint16 // buckets non-zero in the current interval
	k       int
	ops     int64
	done    []IntervalCounts
}

// record adds one latency to interval k, closing the current one first when k moved on.
func (r *intervalRec) record(k int, ns int64) {
	if k != r.k {
		r.close()
		r.k = k
	}
	b := intervalBucket(ns)
	if r.counts[b] == 0 {
		r.touched = append(r.touched, uint16(b))
	}
	r.counts[b]++
	r.ops++
}

// close moves the current interval, when it has ops, to done.
func (r *intervalRec) close() {
	if r.ops == 0 {
		return
	}
	pairs := make([]uint32, 0, 2*len(r.touched))
	for _, b := range r.touched {
		pairs = append(pairs, uint32(b), r.counts[b])
		r.counts[b] = 0
	}
	r.done = append(r.done, IntervalCounts{K: r.k, Ops: r.ops, Buckets: pairs})
	r.touched, r.ops = r.touched[:0], 0
}

// finish closes the last interval and returns every interval with ops, in order.
func (r *intervalRec) finish() []IntervalCounts {
	r.close()
	return r.done
}
