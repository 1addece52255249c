package gate

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/montanaflynn/stats"
)

// FloorBackend is the backend whose cells measure the machine's loopback floor (a TCP echo), not
// a lock: they are shown for context and used to normalize baseline comparisons, never gated.
const FloorBackend = "tcp-echo"

// ControlBackend is the harness's no-lock control, run to prove the mutual-exclusion checker
// catches violations: its cells are neither gated nor shown.
const ControlBackend = "none"

// Sentinel errors of the measurements.
var (
	// ErrCellFailed means a cell failed or saw a mutual-exclusion violation: the run is not a
	// measurement of a correct lock, so the gate reports an error rather than a verdict.
	ErrCellFailed = errors.New("gate: cell failed")
	// ErrViolation means a lock cell saw a mutual-exclusion violation. It wraps ErrCellFailed,
	// and unlike other failures it is never retried: it is a correctness bug, not noise.
	ErrViolation = fmt.Errorf("%w: mutual-exclusion violation", ErrCellFailed)
	// ErrMismatch means base and candidate runs did not measure the same cells.
	ErrMismatch = errors.New("gate: base and candidate measured different cells")
	// ErrNoFloor means a baseline comparison found no tcp-echo cell to normalize by.
	ErrNoFloor = errors.New("gate: no tcp-echo floor cell")
)

// Metric names, in table order.
const (
	MetricOps = "ops/s"
	MetricP50 = "p50"
	MetricP90 = "p90"
	MetricP99 = "p99"
	MetricMax = "max"
)

// metricOrder lists the metrics of a lock cell; gated ones decide the verdict.
var metricOrder = []struct {
	name  string
	gated bool
}{
	{MetricOps, true}, {MetricP50, true}, {MetricP90, true}, {MetricP99, false}, {MetricMax, false},
}

// CellKey names a measured combination independent of its repeat index.
func CellKey(c Cell) string {
	k := fmt.Sprintf("%s W=%d L=%d", c.Backend, c.Workers, c.Locks)
	if c.HoldNs != 0 {
		k += fmt.Sprintf(" hold=%dns", c.HoldNs)
	}
	if c.Mode == "open" {
		k += fmt.Sprintf(" open@%g", c.Rate)
	}
	return k
}

// Summary is one cell key's measurements in one run, the median over its repeats.
type Summary struct {
	Key   string
	Floor bool
	// Values by metric name; latencies in ns, throughput in ops/s.
	Values map[string]float64
}

// Summarize checks a run's cells and reduces them to one Summary per cell key, sorted by key
// (floor cells last). A failed cell, or a lock cell with violations, is an error wrapping
// ErrCellFailed, and so is a cell with too few ops to be a result; control cells are dropped (violations are expected in the floor and the
// control, which are not locks). Skipped cells are
// left out (their reason is returned in skipped); a run with no measured lock cell is ErrNoData.
func Summarize(cells []Cell) (sums []Summary, skipped []string, err error) {
	return summarize(cells, true)
}

// summarize is Summarize; requireLock false accepts a run of floor cells only.
func summarize(cells []Cell, requireLock bool) (sums []Summary, skipped []string, err error) {
	byKey := map[string][]Cell{}
	for _, c := range cells {
		key := CellKey(c)
		switch {
		case c.Backend == ControlBackend:
			continue // the checker's control: violations there are the point, not a measurement
		case c.Violations > 0 && c.Backend != FloorBackend:
			return nil, nil, fmt.Errorf("%s: %d violations: %w", key, c.Violations, ErrViolation)
		case c.Failed != "":
			return nil, nil, fmt.Errorf("%s: %s: %w", key, c.Failed, ErrCellFailed)
		case c.Skipped != "":
			skipped = append(skipped, key+": "+c.Skipped)
			continue
		case c.Insufficient != "":
			// Too few ops to be a number: judging a candidate on it would be judging noise.
			return nil, nil, fmt.Errorf("%s: %s: %w", key, c.Insufficient, ErrCellFailed)
		}
		byKey[key] = append(byKey[key], c)
	}
	locks := 0
	for key, cs := range byKey {
		s := Summary{Key: key, Floor: cs[0].Backend == FloorBackend, Values: map[string]float64{}}
		for _, m := range metricOrder {
			vals := make(stats.Float64Data, len(cs))
			for i, c := range cs {
				vals[i] = cellValue(c, m.name)
			}
			med, err := stats.Median(vals)
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w", key, m.name, err)
			}
			s.Values[m.name] = med
		}
		if !s.Floor {
			locks++
		}
		sums = append(sums, s)
	}
	if locks == 0 && requireLock {
		return nil, skipped, fmt.Errorf("no measured lock cell (skipped: %v): %w", skipped, ErrNoData)
	}
	sort.Slice(sums, func(i, j int) bool {
		if sums[i].Floor != sums[j].Floor {
			return !sums[i].Floor
		}
		return sums[i].Key < sums[j].Key
	})
	return sums, skipped, nil
}

func cellValue(c Cell, metric string) float64 {
	switch metric {
	case MetricOps:
		return c.OpsPerSec
	case MetricP50:
		return float64(c.Latency.P50)
	case MetricP90:
		return float64(c.Latency.P90)
	case MetricP99:
		return float64(c.Latency.P99)
	case MetricMax:
		return float64(c.Latency.Max)
	}
	return math.NaN()
}

// slowRatio orients a candidate/base comparison so that bigger means slower: cand/base for a
// latency, base/cand for a throughput. Non-positive inputs give NaN.
func slowRatio(metric string, base, cand float64) float64 {
	if !(base > 0 && cand > 0) {
		return math.NaN()
	}
	if metric == MetricOps {
		return base / cand
	}
	return cand / base
}
