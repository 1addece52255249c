package gate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// synth is a synthetic bench: a wwly cell and a tcp-echo floor cell whose numbers are a true
// value times lognormal noise. The candidate's lock cell is slowed by candSlow (1.2 = 20% higher
// latency and 1/1.2 the throughput). A shared per-run "machine" factor, applied to both cells,
// mimics a noisy neighbour.
type synth struct {
	rng      *rand.Rand
	noise    float64 // sd of the per-run log noise
	candSlow float64
	runs     int
	mutate   func(arm Arm, seq int, cells []Cell) []Cell
}

func newSynth(seed uint64, noise, candSlow float64) *synth {
	return &synth{rng: rand.New(rand.NewPCG(seed, 99)), noise: noise, candSlow: candSlow}
}

func (s *synth) run(_ context.Context, arm Arm, seq int) ([]Cell, error) {
	s.runs++
	machine := math.Exp(s.noise * s.rng.NormFloat64())
	slow := 1.0
	if arm == Cand {
		slow = s.candSlow
	}
	cell := func(backend string, ops, p50 float64, slow float64) Cell {
		f := machine * math.Exp(0.3*s.noise*s.rng.NormFloat64()) * slow
		return Cell{Backend: backend, Workers: 8, Locks: 1, Mode: "closed",
			OpsPerSec: ops / f,
			Latency:   Percentiles{P50: int64(p50 * f), P90: int64(2 * p50 * f), P99: int64(5 * p50 * f), Max: int64(20 * p50 * f)}}
	}
	cells := []Cell{cell("wwly", 40000, 150000, slow), cell(FloorBackend, 110000, 60000, 1)}
	if s.mutate != nil {
		cells = s.mutate(arm, seq, cells)
	}
	return cells, nil
}

func quickCfg(seed uint64) ABConfig {
	c := DefaultABConfig(seed)
	c.Criteria.Bootstrap = 1000
	return c
}

func TestRunAB(t *testing.T) {
	tests := []struct {
		name     string
		noise    float64
		slow     float64
		want     Verdict
		attempts int
	}{
		{"A/A quiet", 0.02, 1, Pass, 1},
		{"A/A noisy but equal", 0.15, 1, Pass, 1},
		{"20% slower", 0.03, 1.2, Regression, 2},
		{"5% slower: under threshold", 0.01, 1.05, Pass, 1},
		{"faster", 0.03, 0.8, Pass, 1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(uint64(100+i), tc.noise, tc.slow)
			res, err := RunAB(context.Background(), quickCfg(uint64(i)), s.run)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.want || len(res.Attempts) != tc.attempts {
				var b strings.Builder
				for _, a := range res.Attempts {
					_ = WriteTable(&b, a.Metrics, false)
				}
				t.Errorf("verdict %s after %d attempts, want %s after %d\n%s", res.Verdict, len(res.Attempts), tc.want, tc.attempts, b.String())
			}
			if want := 2 * DefaultPairs * len(res.Attempts); s.runs != want {
				t.Errorf("%d runs, want %d", s.runs, want)
			}
			for _, m := range res.Attempts[0].Metrics {
				if wantGated := !strings.HasPrefix(m.Cell, FloorBackend) && (m.Metric == MetricOps || m.Metric == MetricP50 || m.Metric == MetricP90); m.Gated != wantGated {
					t.Errorf("%s %s gated=%v", m.Cell, m.Metric, m.Gated)
				}
			}
		})
	}
}

// TestRunABRerun: a slowdown seen only in the first attempt is not a regression.
func TestRunABRerun(t *testing.T) {
	s := newSynth(5, 0.02, 1.3)
	s.mutate = func(arm Arm, seq int, cells []Cell) []Cell {
		if seq >= 2*DefaultPairs && arm == Cand { // second attempt: candidate back to normal
			cells[0].OpsPerSec *= 1.3
			cells[0].Latency.P50 = int64(float64(cells[0].Latency.P50) / 1.3)
			cells[0].Latency.P90 = int64(float64(cells[0].Latency.P90) / 1.3)
		}
		return cells
	}
	res, err := RunAB(context.Background(), quickCfg(1), s.run)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 2 || len(res.Attempts[0].Regressed) == 0 || res.Verdict != Pass {
		t.Fatalf("attempts %d, first regressed %v, verdict %s", len(res.Attempts), res.Attempts[0].Regressed, res.Verdict)
	}
}

func TestRunABErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		mutate func(arm Arm, seq int, cells []Cell) []Cell
		runErr error
		want   error
	}{
		{"violation", func(arm Arm, seq int, c []Cell) []Cell {
			if seq == 3 {
				c[0].Violations = 1
			}
			return c
		}, nil, ErrViolation},
		{"floor and control violations are expected", func(arm Arm, seq int, c []Cell) []Cell {
			c[1].Violations = 5
			return append(c, Cell{Backend: ControlBackend, Workers: 8, Violations: 9})
		}, nil, nil},
		{"failed cell", func(arm Arm, seq int, c []Cell) []Cell {
			c[1].Failed = "server crashed"
			return c
		}, nil, ErrCellFailed},
		{"different cells", func(arm Arm, seq int, c []Cell) []Cell {
			if arm == Cand {
				c[0].Workers = 16
			}
			return c
		}, nil, ErrMismatch},
		{"lock cell skipped", func(arm Arm, seq int, c []Cell) []Cell {
			c[0].Skipped = "no server"
			return c
		}, nil, ErrNoData},
		{"zero throughput", func(arm Arm, seq int, c []Cell) []Cell {
			c[0].OpsPerSec = 0
			return c
		}, nil, ErrBadInput},
		{"runner error", nil, boom, boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(1, 0.02, 1)
			s.mutate = tc.mutate
			run := s.run
			if tc.runErr != nil {
				run = func(context.Context, Arm, int) ([]Cell, error) { return nil, tc.runErr }
			}
			_, err := RunAB(context.Background(), quickCfg(1), run)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRunABRetryFailed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retries int
		cell    func(c *Cell)
		want    error
	}{
		{"flaky start retried", 1, func(c *Cell) { c.Failed = "start signal late" }, nil},
		{"no retries", 0, func(c *Cell) { c.Failed = "start signal late" }, ErrCellFailed},
		{"violation never retried", 3, func(c *Cell) { c.Failed, c.Violations = "violation", 1 }, ErrViolation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSynth(1, 0.02, 1)
			s.mutate = func(arm Arm, seq int, c []Cell) []Cell {
				if seq == 5 { // one run fails once
					tc.cell(&c[0])
				}
				return c
			}
			cfg := quickCfg(1)
			cfg.RetryFailed = tc.retries
			res, err := RunAB(context.Background(), cfg, s.run)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.want == nil && (len(res.Attempts[0].Retried) != 1 || s.runs != 2*DefaultPairs+1) {
				t.Fatalf("retried %v, %d runs", res.Attempts[0].Retried, s.runs)
			}
		})
	}
}

func TestRunABCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunAB(ctx, quickCfg(1), newSynth(1, 0.02, 1).run); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestPairOrders(t *testing.T) {
	for _, n := range []int{2, 7, 8, 9} {
		for seed := uint64(0); seed < 20; seed++ {
			o := PairOrders(n, seed)
			ab := 0
			for _, x := range o {
				if x == "AB" {
					ab++
				}
			}
			if len(o) != n || ab < n/2 || ab > (n+1)/2 {
				t.Fatalf("n=%d seed=%d: %v", n, seed, o)
			}
			if fmt.Sprint(o) != fmt.Sprint(PairOrders(n, seed)) {
				t.Fatalf("not deterministic")
			}
		}
	}
}

// TestFalsePositiveAndPower runs many synthetic gates: A/A with noise must (almost) never fail,
// and a 20% slowdown must usually be caught when the per-run noise is moderate. The rates
// measured on real runs are in scripts/gate-proof.sh.
func TestFalsePositiveAndPower(t *testing.T) {
	gates := 25
	if testing.Short() {
		gates = 15
	}
	for _, tc := range []struct {
		noise    float64
		minPower float64 // 0: only logged
	}{{0.05, 0.8}, {0.10, 0}} {
		fp, caught := 0, 0
		for i := 0; i < gates; i++ {
			cfg := quickCfg(uint64(1000 + i))
			cfg.Criteria.Bootstrap = 300
			res, err := RunAB(context.Background(), cfg, newSynth(uint64(i), tc.noise, 1).run)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict == Regression {
				fp++
			}
			res, err = RunAB(context.Background(), cfg, newSynth(uint64(i+5000), tc.noise, 1.2).run)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict == Regression {
				caught++
			}
		}
		t.Logf("synthetic, per-run noise sd %.0f%%: A/A false positives %d/%d, 20%% slowdown caught %d/%d",
			100*tc.noise, fp, gates, caught, gates)
		if fp > 0 {
			t.Errorf("noise %v: A/A false positives %d/%d", tc.noise, fp, gates)
		}
		if float64(caught) < tc.minPower*float64(gates) {
			t.Errorf("noise %v: 20%% slowdown caught only %d/%d", tc.noise, caught, gates)
		}
	}
}

func ExampleRunAB() {
	// A stand-in runner: the candidate's lock is 25% slower, with a little deterministic jitter.
	runner := func(_ context.Context, arm Arm, seq int) ([]Cell, error) {
		f := 1 + 0.01*float64(seq%3)
		if arm == Cand {
			f *= 1.25
		}
		return []Cell{{Backend: "wwly", Workers: 8, Locks: 1, OpsPerSec: 40000 / f,
			Latency: Percentiles{P50: int64(150e3 * f), P90: int64(300e3 * f), P99: int64(900e3 * f), Max: int64(3e6 * f)}}}, nil
	}
	res, err := RunAB(context.Background(), DefaultABConfig(1), runner)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Verdict, len(res.Attempts), res.Attempts[1].Regressed)
	// Output: REGRESSION 2 [wwly W=8 L=1 ops/s wwly W=8 L=1 p50 wwly W=8 L=1 p90]
}
