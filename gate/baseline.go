package gate

import (
	"fmt"
	"math"
	"slices"
)

// BaselineResult is the outcome of CompareBaseline.
type BaselineResult struct {
	Metrics   []MetricResult `json:"metrics"`
	Skipped   []string       `json:"skipped,omitempty"`
	Regressed []string       `json:"regressed,omitempty"`
	Verdict   Verdict        `json:"verdict"`
}

// CompareBaseline compares one candidate run with a committed baseline run, possibly taken on
// another day or machine. Raw numbers would mostly measure the machine, so each lock cell is
// first normalized by the same run's tcp-echo floor (the echo cell with the same worker count,
// else the first echo cell): latency/echo-latency and echo-ops/ops, both bigger = slower. The
// ratio of the candidate's normalized value to the baseline's is then judged against threshold.
//
// There is no p-value and no CI: one run against one run gives no estimate of the noise, so
// keep the threshold wider than the A/B gate's. Base and Cand in the result are the normalized
// values (multiples of the floor). A lock cell absent from the candidate is ErrMismatch; one
// without a floor is ErrNoFloor; failed cells are ErrCellFailed.
func CompareBaseline(base, cand []Cell, threshold float64) (BaselineResult, error) {
	var res BaselineResult
	if !(threshold >= 0) {
		return res, fmt.Errorf("baseline: threshold %v: %w", threshold, ErrBadInput)
	}
	bs, _, err := Summarize(base)
	if err != nil {
		return res, fmt.Errorf("baseline run: %w", err)
	}
	cs, skipped, err := Summarize(cand)
	if err != nil {
		return res, fmt.Errorf("candidate run: %w", err)
	}
	res.Skipped = skipped
	candByKey := map[string]Summary{}
	for _, s := range cs {
		candByKey[s.Key] = s
	}
	for _, b := range bs {
		if b.Floor {
			continue
		}
		c, ok := candByKey[b.Key]
		if !ok {
			return res, fmt.Errorf("baseline cell %q not in the candidate run: %w", b.Key, ErrMismatch)
		}
		bf, err := floorFor(b.Key, base)
		if err != nil {
			return res, fmt.Errorf("baseline run: %w", err)
		}
		cf, err := floorFor(c.Key, cand)
		if err != nil {
			return res, fmt.Errorf("candidate run: %w", err)
		}
		for _, m := range metricOrder {
			bn := normalize(m.name, b.Values[m.name], bf.Values[m.name])
			cn := normalize(m.name, c.Values[m.name], cf.Values[m.name])
			ratio := math.NaN()
			if bn > 0 && cn > 0 {
				ratio = cn / bn
			}
			mr := MetricResult{Cell: b.Key, Metric: m.name, Gated: m.gated, Base: bn, Cand: cn}
			mr.N, mr.MedianRatio, mr.CILo, mr.CIHi, mr.P, mr.MinP = 1, ratio, math.NaN(), math.NaN(), math.NaN(), math.NaN()
			if math.IsNaN(ratio) && m.gated {
				return res, fmt.Errorf("%s %s: baseline %v, candidate %v (normalized): %w", b.Key, m.name, bn, cn, ErrBadInput)
			}
			mr.Verdict, mr.Why = CompareRatio(ratio, threshold, m.gated)
			res.Metrics = append(res.Metrics, mr)
			if mr.Verdict == Regression {
				res.Regressed = append(res.Regressed, b.Key+" "+m.name)
			}
		}
	}
	res.Verdict = Pass
	if len(res.Regressed) > 0 {
		res.Verdict = Regression
	}
	return res, nil
}

// normalize expresses a lock cell's value in units of the floor, oriented bigger = slower.
func normalize(metric string, v, floor float64) float64 {
	if !(v > 0 && floor > 0) {
		return math.NaN()
	}
	if metric == MetricOps {
		return floor / v
	}
	return v / floor
}

// floorFor finds the tcp-echo summary for a lock cell key: the echo cell with the same workers
// and locks, else the same workers, else the first echo cell (with its repeats).
func floorFor(key string, cells []Cell) (Summary, error) {
	var echo []Cell
	var lock *Cell
	for i, c := range cells {
		if c.Backend == FloorBackend && c.Skipped == "" && c.Failed == "" {
			echo = append(echo, c)
		}
		if lock == nil && CellKey(c) == key {
			lock = &cells[i]
		}
	}
	if len(echo) == 0 || lock == nil {
		return Summary{}, fmt.Errorf("for %q: %w", key, ErrNoFloor)
	}
	pick := echo[0]
	for _, match := range []func(Cell) bool{
		func(c Cell) bool { return c.Workers == lock.Workers && c.Locks == lock.Locks },
		func(c Cell) bool { return c.Workers == lock.Workers },
	} {
		if j := slices.IndexFunc(echo, match); j >= 0 {
			pick = echo[j]
			break
		}
	}
	var same []Cell
	for _, c := range echo {
		if CellKey(c) == CellKey(pick) {
			same = append(same, c)
		}
	}
	sums, _, err := summarize(same, false)
	if err != nil {
		return Summary{}, err
	}
	return sums[0], nil
}
