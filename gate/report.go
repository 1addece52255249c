package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/wwly/wwly/units"
)

// ReportSchema is the version of gate.json.
const ReportSchema = 1

// Report is gate.json: what was compared, how, and the outcome.
type Report struct {
	Schema   int       `json:"schema"`
	Mode     string    `json:"mode"` // "ab" or "baseline"
	Started  time.Time `json:"started"`
	Base     string    `json:"base"` // description: ref, binary, server args or baseline dir
	Cand     string    `json:"cand"`
	Scenario string    `json:"scenario,omitempty"`
	Seed     uint64    `json:"seed,omitempty"`
	Pairs    int       `json:"pairs,omitempty"`
	Criteria Criteria  `json:"criteria"`
	AB       *ABResult `json:"ab,omitempty"`
	// Baseline is set in baseline mode.
	Baseline *BaselineResult `json:"baseline,omitempty"`
	Verdict  Verdict         `json:"verdict"` // pass, REGRESSION, or "error"
	Error    string          `json:"error,omitempty"`
	// Exit is the process exit status the verdict maps to: 0 pass, 1 regression, 2 error.
	Exit int `json:"exit"`
}

// Exit statuses of `wwly gate`.
const (
	ExitPass       = 0
	ExitRegression = 1
	ExitError      = 2
)

// VerdictError is the Verdict recorded when no verdict could be reached.
const VerdictError Verdict = "error"

// WriteJSON writes the report as dir/gate.json, creating dir.
func (r *Report) WriteJSON(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("gate report: %w", err)
	}
	b, err := json.MarshalIndent(jsonSafe(r), "", "  ")
	if err != nil {
		return fmt.Errorf("gate report: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "gate.json"), append(b, '\n'), 0o644)
}

// jsonSafe returns a copy of the report with NaN and Inf (not representable in JSON) set to 0:
// in gate.json, 0 in ratio, CI or p means "not applicable" (baseline mode, zero values).
func jsonSafe(r *Report) *Report {
	c := *r
	fix := func(ms []MetricResult) []MetricResult {
		out := make([]MetricResult, len(ms))
		for i, m := range ms {
			for _, f := range []*float64{&m.Base, &m.Cand, &m.MedianRatio, &m.CILo, &m.CIHi, &m.P, &m.MinP} {
				if math.IsNaN(*f) || math.IsInf(*f, 0) {
					*f = 0
				}
			}
			out[i] = m
		}
		return out
	}
	if r.AB != nil {
		ab := *r.AB
		ab.Attempts = make([]Attempt, len(r.AB.Attempts))
		for i, a := range r.AB.Attempts {
			a.Metrics = fix(a.Metrics)
			ab.Attempts[i] = a
		}
		c.AB = &ab
	}
	if r.Baseline != nil {
		b := *r.Baseline
		b.Metrics = fix(b.Metrics)
		c.Baseline = &b
	}
	return &c
}

// Legends WriteTable prints above its table, so a reader knows which way the ratio points.
const (
	// LegendAB heads an A/B table.
	LegendAB = "ratio = candidate/base (CI: its bootstrap interval): ops/s > 1 is faster; latency > 1 is slower. " +
		"why: the slowdown, > 0 = candidate slower"
	// LegendBaseline heads a baseline-mode table.
	LegendBaseline = "values: multiples of the run's tcp-echo floor (ops/s: fraction of the floor's). " +
		"ratio = candidate/base: ops/s > 1 is faster; latency > 1 is slower. why: the slowdown, > 0 = candidate slower"
)

// WriteTable renders metric results as an aligned table under a one-line legend: one row per
// cell and metric with the base and candidate values, the candidate/base ratio, its CI, the
// p-value and the verdict. The gate judges a slowdown ratio oriented bigger = slower
// (Comparison.MedianRatio); the table shows candidate/base instead, which for ops/s is its
// inverse, because that is the ratio a reader computes from the two columns beside it. In
// baseline mode (normalized true) values are multiples of the tcp-echo floor and there is no
// CI or p-value.
func WriteTable(w io.Writer, ms []MetricResult, normalized bool) error {
	legend := LegendAB
	if normalized {
		legend = LegendBaseline
	}
	if _, err := fmt.Fprintln(w, legend); err != nil {
		return fmt.Errorf("gate table: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "cell\tmetric\tbase\tcandidate\tcand/base\tCI\tp\tverdict\twhy")
	for _, m := range ms {
		base, cand := formatValue(m.Metric, m.Base), formatValue(m.Metric, m.Cand)
		if normalized {
			base, cand = formatMultiple(m.Metric, m.Base), formatMultiple(m.Metric, m.Cand)
		}
		ratio, lo, hi := candOverBase(m.Metric, m.MedianRatio), candOverBase(m.Metric, m.CILo), candOverBase(m.Metric, m.CIHi)
		ci, p := "-", "-"
		if !math.IsNaN(lo) && !math.IsNaN(hi) && !normalized {
			ci = fmt.Sprintf("[%.3f, %.3f]", min(lo, hi), max(lo, hi))
		}
		if !math.IsNaN(m.P) && !normalized {
			p = fmt.Sprintf("%.4f", m.P)
		}
		r := "-"
		if !math.IsNaN(ratio) {
			r = fmt.Sprintf("%.3f", ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Cell, m.Metric, base, cand, r, ci, p, m.Verdict, m.Why)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("gate table: %w", err)
	}
	return nil
}

// candOverBase turns a slowdown ratio (bigger = slower) back into candidate/base: the inverse
// for a throughput, itself for a latency. NaN, zero and infinite stay undefined (NaN).
func candOverBase(metric string, slowdown float64) float64 {
	if math.IsNaN(slowdown) || math.IsInf(slowdown, 0) || slowdown <= 0 {
		return math.NaN()
	}
	if metric == MetricOps {
		return 1 / slowdown
	}
	return slowdown
}

// formatMultiple prints a baseline-mode normalized value (bigger = slower) as a multiple of the
// floor, turning ops/s back into "fraction of the floor's ops/s" so candidate/base reads as in
// A/B mode.
func formatMultiple(metric string, v float64) string {
	if metric == MetricOps && v > 0 {
		v = 1 / v
	}
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.3gx", v)
}

func formatValue(metric string, v float64) string {
	if metric == MetricOps {
		return fmt.Sprintf("%.0f", v)
	}
	return FormatNs(v)
}

// FormatNs renders nanoseconds as every wwly table does ("<1µs", "151µs", "2.5ms"; NaN "-"):
// see units.Latency.
func FormatNs(ns float64) string { return units.LatencyFloat(ns) }
