package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"github.com/montanaflynn/stats"
)

// Arm is one side of an A/B comparison.
type Arm string

// The two arms.
const (
	Base Arm = "base"
	Cand Arm = "cand"
)

// Runner performs one benchmark run of arm and returns its cells. seq numbers the runs of one
// RunAB call from 0 upwards (unique, for naming output directories). RunAB calls it
// sequentially, never concurrently: the runs share one machine and must not overlap.
type Runner func(ctx context.Context, arm Arm, seq int) ([]Cell, error)

// ABConfig configures RunAB. Start from DefaultABConfig.
type ABConfig struct {
	// Pairs is the number of (base, cand) pairs per attempt. With the exact Wilcoxon test the
	// smallest possible one-sided p is 1/2^Pairs, so p < 0.01 needs Pairs >= 7.
	Pairs    int
	Seed     uint64 // orders the pairs and seeds the bootstrap; printed so a run can be replayed
	Criteria Criteria
	// Rerun runs the whole A/B once more when the first attempt regresses; the verdict is a
	// regression only when both attempts regress.
	Rerun bool
	// RetryFailed is how many times one bench run may be repeated when it fails for a reason
	// other than a mutual-exclusion violation (a crashed or slow-to-start harness on a loaded
	// box). 0 makes every failure an error at once. A violation is never retried.
	RetryFailed int
	Log         io.Writer // progress lines; nil discards
}

// DefaultPairs is 8: the smallest even count whose exact Wilcoxon test can reach p < 0.01 with one
// pair out of line (all 8 slower: p = 1/256; the closest pair faster: p = 2/256 = 0.0078). Seven
// pairs would need every single pair slower (p = 1/128 = 0.0078), which one noisy pair defeats.
const DefaultPairs = 8

// DefaultABConfig returns the documented defaults with the given seed.
func DefaultABConfig(seed uint64) ABConfig {
	return ABConfig{Pairs: DefaultPairs, Seed: seed, Criteria: DefaultCriteria(), Rerun: true}
}

// Validate reports the first setting out of range.
func (c ABConfig) Validate() error {
	if c.Pairs < 2 || c.Pairs > 1000 {
		return fmt.Errorf("ab: %d pairs, need 2..1000: %w", c.Pairs, ErrBadInput)
	}
	if c.RetryFailed < 0 || c.RetryFailed > 10 {
		return fmt.Errorf("ab: %d retries, need 0..10: %w", c.RetryFailed, ErrBadInput)
	}
	return c.Criteria.Validate()
}

// MetricResult is the comparison of one metric of one cell key.
type MetricResult struct {
	Cell   string `json:"cell"`
	Metric string `json:"metric"`
	Gated  bool   `json:"gated"`
	// Base and Cand are medians over the pairs of the raw values (ns or ops/s).
	Base float64 `json:"base"`
	Cand float64 `json:"cand"`
	Comparison
	// PairRatios are the per-pair ratios, oriented bigger = slower (empty in baseline mode).
	PairRatios []float64 `json:"pair_ratios,omitempty"`
}

// Attempt is one complete A/B: Pairs pairs in a randomized, balanced AB/BA order.
type Attempt struct {
	Seed      uint64         `json:"seed"`
	Orders    []string       `json:"orders"` // "AB" or "BA" per pair
	Metrics   []MetricResult `json:"metrics"`
	Skipped   []string       `json:"skipped,omitempty"`
	Regressed []string       `json:"regressed,omitempty"` // "cell metric" of each regressed metric
	Retried   []string       `json:"retried,omitempty"`   // failures that were retried (RetryFailed)
}

// ABResult is the outcome of RunAB.
type ABResult struct {
	Attempts []Attempt `json:"attempts"`
	// Verdict is Regression only when every attempt regressed (the first, and the rerun).
	Verdict Verdict `json:"verdict"`
}

// PairOrders returns n orders, "AB" or "BA", balanced (half each; the odd one out random) and
// shuffled with a PCG seeded by seed: a randomized ABBA design, so drift over time (thermal,
// other tenants) hits both arms equally on average and not in step with the arm.
func PairOrders(n int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 0xab))
	orders := make([]string, n)
	for i := range orders {
		if i < n/2 {
			orders[i] = "AB"
		} else {
			orders[i] = "BA"
		}
	}
	if n%2 == 1 && rng.IntN(2) == 0 {
		orders[n-1] = "AB"
	}
	rng.Shuffle(n, func(i, j int) { orders[i], orders[j] = orders[j], orders[i] })
	return orders
}

// RunAB measures base and candidate with runner and judges every metric. It returns an error
// (no verdict) when a run fails, a cell fails or sees a violation (ErrCellFailed), or the arms
// measured different cells (ErrMismatch). Not safe for concurrent use with the same runner.
func RunAB(ctx context.Context, cfg ABConfig, runner Runner) (ABResult, error) {
	if err := cfg.Validate(); err != nil {
		return ABResult{}, err
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	attempts := 1
	if cfg.Rerun {
		attempts = 2
	}
	var res ABResult
	seq := 0
	for a := 0; a < attempts; a++ {
		seed := cfg.Seed + uint64(a)
		at, err := runAttempt(ctx, cfg, seed, runner, &seq, logw)
		if err != nil {
			return res, fmt.Errorf("attempt %d: %w", a+1, err)
		}
		res.Attempts = append(res.Attempts, at)
		if len(at.Regressed) == 0 {
			res.Verdict = Pass
			return res, nil
		}
		if a+1 < attempts {
			fmt.Fprintf(logw, "gate: attempt %d regressed (%v); rerunning the whole A/B once (seed %d)\n", a+1, at.Regressed, seed+1)
		}
	}
	res.Verdict = Regression
	return res, nil
}

func runAttempt(ctx context.Context, cfg ABConfig, seed uint64, runner Runner, seq *int, logw io.Writer) (Attempt, error) {
	at := Attempt{Seed: seed, Orders: PairOrders(cfg.Pairs, seed)}
	fmt.Fprintf(logw, "gate: %d pairs, seed %d, orders %v\n", cfg.Pairs, seed, at.Orders)
	// vals[cell][metric][arm] holds one value per pair.
	type armVals map[Arm][]float64
	vals := map[string]map[string]armVals{}
	var keys []Summary // the first run's keys, in table order
	skippedSeen := map[string]bool{}
	for p, order := range at.Orders {
		arms := []Arm{Base, Cand}
		if order == "BA" {
			arms = []Arm{Cand, Base}
		}
		for _, arm := range arms {
			if err := ctx.Err(); err != nil {
				return at, fmt.Errorf("pair %d: %w", p+1, err)
			}
			var sums []Summary
			var skipped []string
			for try := 0; ; try++ {
				cells, err := runner(ctx, arm, *seq)
				*seq++
				if err == nil {
					sums, skipped, err = Summarize(cells)
				}
				if err == nil {
					break
				}
				if try >= cfg.RetryFailed || errors.Is(err, ErrViolation) || ctx.Err() != nil {
					return at, fmt.Errorf("pair %d %s: %w", p+1, arm, err)
				}
				at.Retried = append(at.Retried, fmt.Sprintf("pair %d %s: %v", p+1, arm, err))
				fmt.Fprintf(logw, "gate: pair %d %s failed, retrying (%d of %d): %v\n", p+1, arm, try+1, cfg.RetryFailed, err)
			}
			for _, s := range skipped {
				if !skippedSeen[s] {
					skippedSeen[s] = true
					at.Skipped = append(at.Skipped, s)
				}
			}
			if keys == nil {
				keys = sums
			}
			if err := sameKeys(keys, sums); err != nil {
				return at, fmt.Errorf("pair %d %s: %w", p+1, arm, err)
			}
			for _, s := range sums {
				if vals[s.Key] == nil {
					vals[s.Key] = map[string]armVals{}
				}
				for m, v := range s.Values {
					if vals[s.Key][m] == nil {
						vals[s.Key][m] = armVals{}
					}
					vals[s.Key][m][arm] = append(vals[s.Key][m][arm], v)
				}
			}
			fmt.Fprintf(logw, "gate: pair %d/%d %s: %s\n", p+1, cfg.Pairs, arm, brief(sums))
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	for _, k := range keys {
		for _, m := range metricOrder {
			b, c := vals[k.Key][m.name][Base], vals[k.Key][m.name][Cand]
			gated := m.gated && !k.Floor
			mr, err := comparePairs(k.Key, m.name, gated, b, c, cfg.Criteria, rng)
			if err != nil {
				return at, err
			}
			at.Metrics = append(at.Metrics, mr)
			if mr.Verdict == Regression {
				at.Regressed = append(at.Regressed, k.Key+" "+m.name)
			}
		}
	}
	return at, nil
}

func comparePairs(cell, metric string, gated bool, base, cand []float64, c Criteria, rng *rand.Rand) (MetricResult, error) {
	mr := MetricResult{Cell: cell, Metric: metric, Gated: gated}
	mr.Base, _ = stats.Median(base)
	mr.Cand, _ = stats.Median(cand)
	logs := make([]float64, len(base))
	mr.PairRatios = make([]float64, len(base))
	for i := range base {
		r := slowRatio(metric, base[i], cand[i])
		if math.IsNaN(r) {
			if !gated {
				// An ungated metric with a zero value (e.g. a floor cell) is shown, not judged.
				mr.Comparison = Comparison{N: len(base), MedianRatio: math.NaN(), CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN(), Verdict: Info, Why: "zero value"}
				mr.PairRatios = nil
				return mr, nil
			}
			return mr, fmt.Errorf("%s %s pair %d: base %v, cand %v: %w", cell, metric, i+1, base[i], cand[i], ErrBadInput)
		}
		mr.PairRatios[i] = r
		logs[i] = math.Log(r)
	}
	cmp, err := ComparePaired(logs, c, gated, rng)
	if err != nil {
		return mr, fmt.Errorf("%s %s: %w", cell, metric, err)
	}
	mr.Comparison = cmp
	return mr, nil
}

func sameKeys(want, got []Summary) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d cells, first run had %d: %w", len(got), len(want), ErrMismatch)
	}
	for i := range want {
		if want[i].Key != got[i].Key {
			return fmt.Errorf("cell %q, first run had %q: %w", got[i].Key, want[i].Key, ErrMismatch)
		}
	}
	return nil
}

// brief renders a run's lock cells in one short line for the progress log.
func brief(sums []Summary) string {
	out := ""
	for _, s := range sums {
		if out != "" {
			out += "; "
		}
		out += fmt.Sprintf("%s %.0f ops/s p50 %s p90 %s", s.Key, s.Values[MetricOps],
			FormatNs(s.Values[MetricP50]), FormatNs(s.Values[MetricP90]))
	}
	return out
}
