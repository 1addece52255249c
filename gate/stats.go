// Package gate decides whether a candidate build (or configuration) of wwly is slower than a base
// one, from repeated `wwly bench` runs on a noisy machine, without crying wolf.
//
// The statistics (this file) are pure functions: no clock, no processes, randomness only from a
// caller-supplied seeded source, so every verdict can be reproduced from its inputs.
package gate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/montanaflynn/stats"
)

// Sentinel errors of the statistics.
var (
	// ErrNoData means a test got no usable observations (empty input, or all differences zero).
	ErrNoData = errors.New("gate: no usable observations")
	// ErrBadInput means an observation was NaN or infinite, or a parameter was out of range.
	ErrBadInput = errors.New("gate: bad input")
)

// ExactMaxN is the largest number of non-zero differences for which WilcoxonGreater computes the
// exact null distribution; above it the normal approximation is used. The exact computation is a
// dynamic programme over 2^n sign patterns folded into rank sums, O(n^3), cheap at this size,
// and the normal approximation is already within ~0.002 of the exact p at n = 25.
const ExactMaxN = 25

// WilcoxonResult is the outcome of a one-sided Wilcoxon signed-rank test.
type WilcoxonResult struct {
	N      int     // number of non-zero differences used (zeros are dropped, Wilcoxon's convention)
	Zeros  int     // number of zero differences dropped
	WPlus  float64 // sum of the (mid)ranks of the positive differences
	P      float64 // one-sided p-value for H1: the differences tend to be > 0
	Exact  bool    // true when P comes from the exact permutation distribution
	MinP   float64 // the smallest p this N could ever give (1/2^N when exact)
	TiesOK bool    // false when ties among |d| exist (the exact distribution then conditions on the midranks)
}

// WilcoxonGreater runs the one-sided Wilcoxon signed-rank test of H0: the differences d are
// symmetric about 0, against H1: they tend to be positive. Zeros are dropped; tied |d| get
// midranks. For N <= ExactMaxN the p-value is exact (conditional on the observed midranks, so
// ties are handled exactly too); above that the normal approximation with tie and continuity
// corrections is used.
//
// With N differences the exact p can never be below 1/2^N (all differences positive), so a
// significance level of 0.01 needs N >= 7.
func WilcoxonGreater(d []float64) (WilcoxonResult, error) {
	var nz []float64
	zeros := 0
	for _, x := range d {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return WilcoxonResult{}, fmt.Errorf("wilcoxon: difference %v: %w", x, ErrBadInput)
		}
		if x == 0 {
			zeros++
			continue
		}
		nz = append(nz, x)
	}
	n := len(nz)
	if n == 0 {
		return WilcoxonResult{Zeros: zeros, P: 1, MinP: 1}, fmt.Errorf("wilcoxon: %d differences, all zero: %w", len(d), ErrNoData)
	}
	// Ranks are kept doubled so midranks stay integers: a tie group over positions i..j (1-based)
	// has midrank (i+j)/2, doubled i+j.
	rank2, tieTerm := doubledRanks(nz)
	w2 := 0 // doubled W+
	for i, x := range nz {
		if x > 0 {
			w2 += rank2[i]
		}
	}
	res := WilcoxonResult{N: n, Zeros: zeros, WPlus: float64(w2) / 2, TiesOK: tieTerm == 0}
	if n <= ExactMaxN {
		res.Exact = true
		res.P = exactUpperTail(rank2, w2)
		res.MinP = math.Ldexp(1, -n)
		return res, nil
	}
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	variance := nf*(nf+1)*(2*nf+1)/24 - tieTerm/48
	if variance <= 0 {
		return res, fmt.Errorf("wilcoxon: zero variance: %w", ErrNoData)
	}
	// Continuity correction of 1/2 towards the mean for an upper-tail probability.
	z := (res.WPlus - mean - 0.5) / math.Sqrt(variance)
	res.P = upperNormal(z)
	res.MinP = upperNormal((nf*(nf+1)/2 - mean - 0.5) / math.Sqrt(variance))
	return res, nil
}

// doubledRanks returns twice the midrank of |x| for each element, and the tie correction term
// sum(t^3 - t) over tie groups of size t.
func doubledRanks(x []float64) ([]int, float64) {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return math.Abs(x[idx[a]]) < math.Abs(x[idx[b]]) })
	rank2 := make([]int, len(x))
	tie := 0.0
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && math.Abs(x[idx[j+1]]) == math.Abs(x[idx[i]]) {
			j++
		}
		for k := i; k <= j; k++ {
			rank2[idx[k]] = (i + 1) + (j + 1)
		}
		t := float64(j - i + 1)
		tie += t*t*t - t
		i = j + 1
	}
	return rank2, tie
}

// exactUpperTail returns P(W2 >= w2) under H0, where W2 is the sum of the doubled ranks given a
// random sign each with probability 1/2. Counting uses float64, exact for the sizes allowed.
func exactUpperTail(rank2 []int, w2 int) float64 {
	total := 0
	for _, r := range rank2 {
		total += r
	}
	count := make([]float64, total+1)
	count[0] = 1
	for _, r := range rank2 {
		for s := total; s >= r; s-- {
			count[s] += count[s-r]
		}
	}
	tail := 0.0
	for s := w2; s <= total; s++ {
		tail += count[s]
	}
	return math.Ldexp(tail, -len(rank2))
}

// upperNormal is P(Z >= z) for a standard normal Z.
func upperNormal(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// SignRankCDF returns P(W+ <= w) for n untied, non-zero differences under H0: the quantity
// tabulated in published Wilcoxon critical-value tables.
func SignRankCDF(n, w int) float64 {
	if w < 0 {
		return 0
	}
	total := n * (n + 1) / 2
	if w >= total {
		return 1
	}
	count := make([]float64, total+1)
	count[0] = 1
	for r := 1; r <= n; r++ {
		for s := total; s >= r; s-- {
			count[s] += count[s-r]
		}
	}
	c := 0.0
	for s := 0; s <= w; s++ {
		c += count[s]
	}
	return math.Ldexp(c, -n)
}

// BootstrapMedianCI returns a two-sided percentile-bootstrap confidence interval at level
// (e.g. 0.95) for the median of x, from iters resamples drawn with rng. The caller owns rng; it
// is not safe to share across goroutines. With tiny samples the interval is coarse (it can only
// take values among the sample's order statistics and their midpoints), which errs wide.
func BootstrapMedianCI(x []float64, level float64, iters int, rng *rand.Rand) (lo, hi float64, err error) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), fmt.Errorf("bootstrap: %w", ErrNoData)
	}
	if level <= 0 || level >= 1 || iters < 10 || rng == nil {
		return math.NaN(), math.NaN(), fmt.Errorf("bootstrap: level %v, iters %d: %w", level, iters, ErrBadInput)
	}
	meds := make(stats.Float64Data, iters)
	buf := make(stats.Float64Data, len(x))
	for i := range meds {
		for j := range buf {
			buf[j] = x[rng.IntN(len(x))]
		}
		m, err := stats.Median(buf)
		if err != nil {
			return math.NaN(), math.NaN(), fmt.Errorf("bootstrap: %w", err)
		}
		meds[i] = m
	}
	alpha := (1 - level) / 2
	if lo, err = percentileOrMin(meds, 100*alpha); err != nil {
		return math.NaN(), math.NaN(), fmt.Errorf("bootstrap: %w", err)
	}
	if hi, err = stats.Percentile(meds, 100*(1-alpha)); err != nil {
		return math.NaN(), math.NaN(), fmt.Errorf("bootstrap: %w", err)
	}
	return lo, hi, nil
}

// percentileOrMin is stats.Percentile that also accepts 0 (the minimum), which stats rejects.
func percentileOrMin(x stats.Float64Data, pct float64) (float64, error) {
	if pct <= 0 {
		return stats.Min(x)
	}
	return stats.Percentile(x, pct)
}

// Criteria are the thresholds of a regression verdict. The zero value is not useful; start from
// DefaultCriteria.
type Criteria struct {
	Alpha     float64 `json:"alpha"`     // p must be below this (one-sided)
	Threshold float64 `json:"threshold"` // the median slowdown must be at least this fraction (0.10 = 10%)
	CILevel   float64 `json:"ci_level"`  // level of the bootstrap CI of the median ratio, which must exclude 1
	Bootstrap int     `json:"bootstrap"` // bootstrap resamples
}

// DefaultCriteria returns the documented defaults: p < 0.01, slowdown >= 10%, 95% CI, 4000 resamples.
func DefaultCriteria() Criteria {
	return Criteria{Alpha: 0.01, Threshold: 0.10, CILevel: 0.95, Bootstrap: 4000}
}

// Validate reports the first setting out of range.
func (c Criteria) Validate() error {
	switch {
	case !(c.Alpha > 0 && c.Alpha < 1):
		return fmt.Errorf("criteria: alpha %v not in (0,1): %w", c.Alpha, ErrBadInput)
	case !(c.Threshold >= 0) || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("criteria: threshold %v must be >= 0: %w", c.Threshold, ErrBadInput)
	case !(c.CILevel > 0 && c.CILevel < 1):
		return fmt.Errorf("criteria: CI level %v not in (0,1): %w", c.CILevel, ErrBadInput)
	case c.Bootstrap < 100:
		return fmt.Errorf("criteria: %d bootstrap resamples, need >= 100: %w", c.Bootstrap, ErrBadInput)
	}
	return nil
}

// Verdict is the outcome for one metric.
type Verdict string

// Verdicts.
const (
	Pass       Verdict = "pass"
	Regression Verdict = "REGRESSION"
	Info       Verdict = "info" // shown, not gated (p99, max, the tcp-echo floor)
)

// Comparison is the paired comparison of one metric. Ratios are oriented so that bigger means
// slower: latency cand/base, throughput base/cand.
type Comparison struct {
	N           int     `json:"n"`
	MedianRatio float64 `json:"median_ratio"`
	CILo        float64 `json:"ci_lo"`
	CIHi        float64 `json:"ci_hi"`
	P           float64 `json:"p"`
	Exact       bool    `json:"exact"`
	MinP        float64 `json:"min_p"`
	Verdict     Verdict `json:"verdict"`
	Why         string  `json:"why"`
}

// ComparePaired judges the per-pair log ratios (log(slower-is-bigger ratio), one per pair). A
// metric regresses only when all three hold: the one-sided Wilcoxon p < Alpha, the median ratio
// >= 1+Threshold, and the bootstrap CI of the median ratio lies wholly above 1. When gated is
// false the numbers are computed and the verdict is Info.
func ComparePaired(logRatios []float64, c Criteria, gated bool, rng *rand.Rand) (Comparison, error) {
	if err := c.Validate(); err != nil {
		return Comparison{}, err
	}
	if len(logRatios) == 0 {
		return Comparison{}, fmt.Errorf("compare: %w", ErrNoData)
	}
	med, err := stats.Median(logRatios)
	if err != nil {
		return Comparison{}, fmt.Errorf("compare: %w", err)
	}
	lo, hi, err := BootstrapMedianCI(logRatios, c.CILevel, c.Bootstrap, rng)
	if err != nil {
		return Comparison{}, fmt.Errorf("compare: %w", err)
	}
	out := Comparison{N: len(logRatios), MedianRatio: math.Exp(med), CILo: math.Exp(lo), CIHi: math.Exp(hi)}
	w, err := WilcoxonGreater(logRatios)
	switch {
	case errors.Is(err, ErrNoData):
		out.P, out.MinP = 1, 1 // identical measurements: no evidence of a slowdown
	case err != nil:
		return Comparison{}, fmt.Errorf("compare: %w", err)
	default:
		out.P, out.Exact, out.MinP = w.P, w.Exact, w.MinP
	}
	out.Verdict, out.Why = decide(out, c, gated)
	return out, nil
}

// decide applies the three-part rule and says which part held it back.
func decide(cmp Comparison, c Criteria, gated bool) (Verdict, string) {
	if !gated {
		return Info, "not gated"
	}
	var why []string
	if !(cmp.P < c.Alpha) {
		why = append(why, fmt.Sprintf("p=%.3g >= %.3g", cmp.P, c.Alpha))
		if cmp.MinP >= c.Alpha {
			why[len(why)-1] += fmt.Sprintf(" (n=%d cannot reach it)", cmp.N)
		}
	}
	if !(cmp.MedianRatio >= 1+c.Threshold) {
		why = append(why, fmt.Sprintf("slowdown %+.1f%% < %.0f%%", 100*(cmp.MedianRatio-1), 100*c.Threshold))
	}
	if !(cmp.CILo > 1) {
		why = append(why, "CI includes 1")
	}
	if len(why) == 0 {
		return Regression, fmt.Sprintf("p=%.3g, slowdown %+.1f%%, CI > 1", cmp.P, 100*(cmp.MedianRatio-1))
	}
	return Pass, joinWhy(why)
}

func joinWhy(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// CompareRatio judges a single unpaired ratio (baseline mode): Regression when ratio >=
// 1+threshold. There is no p-value: one run against one baseline gives no estimate of the noise.
func CompareRatio(ratio, threshold float64, gated bool) (Verdict, string) {
	switch {
	case math.IsNaN(ratio) || math.IsInf(ratio, 0):
		return Pass, "ratio undefined"
	case !gated:
		return Info, "not gated"
	case ratio >= 1+threshold:
		return Regression, fmt.Sprintf("slowdown %+.1f%% >= %.0f%%", 100*(ratio-1), 100*threshold)
	default:
		return Pass, fmt.Sprintf("slowdown %+.1f%% < %.0f%%", 100*(ratio-1), 100*threshold)
	}
}
