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

// WriteTable renders metric results as an aligned table: one row per cell and metric with the
// base and candidate values, the slower-is-bigger ratio, its CI, the p-value and the verdict.
// In baseline mode (normalized true) values are multiples of the tcp-echo floor and there is no
// CI or p-value.
func WriteTable(w io.Writer, ms []MetricResult, normalized bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "cell\tmetric\tbase\tcandidate\tratio\tCI\tp\tverdict\twhy")
	for _, m := range ms {
		base, cand := formatValue(m.Metric, m.Base), formatValue(m.Metric, m.Cand)
		if normalized {
			base, cand = fmt.Sprintf("%.3gx", m.Base), fmt.Sprintf("%.3gx", m.Cand)
		}
		ci, p := "-", "-"
		if !math.IsNaN(m.CILo) && !normalized {
			ci = fmt.Sprintf("[%.3f, %.3f]", m.CILo, m.CIHi)
		}
		if !math.IsNaN(m.P) && !normalized {
			p = fmt.Sprintf("%.4f", m.P)
		}
		ratio := "-"
		if !math.IsNaN(m.MedianRatio) {
			ratio = fmt.Sprintf("%.3f", m.MedianRatio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Cell, m.Metric, base, cand, ratio, ci, p, m.Verdict, m.Why)
	}
	return tw.Flush()
}

func formatValue(metric string, v float64) string {
	if metric == MetricOps {
		return fmt.Sprintf("%.0f", v)
	}
	return FormatNs(v)
}

// FormatNs renders nanoseconds with a unit that keeps three significant digits.
func FormatNs(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "-"
	case ns >= 1e9:
		return fmt.Sprintf("%.3gs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3gms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3gµs", ns/1e3)
	default:
		return fmt.Sprintf("%.0fns", ns)
	}
}
