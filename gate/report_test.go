package gate

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestWriteTableGolden(t *testing.T) {
	ms := []MetricResult{
		{Cell: "wwly W=8 L=1", Metric: MetricOps, Gated: true, Base: 40000, Cand: 31000,
			Comparison: Comparison{N: 8, MedianRatio: 1.29, CILo: 1.2, CIHi: 1.35, P: 0.0039, Verdict: Regression, Why: "p=0.0039, slowdown +29.0%, CI > 1"}},
		{Cell: "wwly W=8 L=1", Metric: MetricP50, Gated: true, Base: 151000, Cand: 152500,
			Comparison: Comparison{N: 8, MedianRatio: 1.01, CILo: 0.98, CIHi: 1.03, P: 0.42, Verdict: Pass, Why: "p=0.42 >= 0.01; slowdown +1.0% < 10%; CI includes 1"}},
		{Cell: "tcp-echo W=8 L=0", Metric: MetricMax, Base: 900, Cand: 2.5e9,
			Comparison: Comparison{N: 8, MedianRatio: math.NaN(), CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN(), Verdict: Info, Why: "zero value"}},
	}
	var buf bytes.Buffer
	if err := WriteTable(&buf, ms, false); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("--- baseline mode\n")
	if err := WriteTable(&buf, []MetricResult{
		{Cell: "wwly W=8 L=1", Metric: MetricOps, Gated: true, Base: 2, Cand: 2.5,
			Comparison: Comparison{N: 1, MedianRatio: 1.25, CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN(), Verdict: Regression, Why: "slowdown +25.0% >= 10%"}},
		{Cell: "wwly W=8 L=1", Metric: MetricP90, Gated: true, Base: 2.5, Cand: 3.1,
			Comparison: Comparison{N: 1, MedianRatio: 1.24, CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN(), Verdict: Regression, Why: "slowdown +24.0% >= 10%"}},
	}, true); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("table differs from %s (run with -update if intended):\n%s", golden, buf.String())
	}
}

func TestReportJSONSafe(t *testing.T) {
	dir := t.TempDir()
	r := &Report{Schema: ReportSchema, Mode: "baseline", Baseline: &BaselineResult{Metrics: []MetricResult{
		{Metric: MetricP50, Comparison: Comparison{MedianRatio: 1.1, CILo: math.NaN(), P: math.Inf(1)}}}}}
	if err := r.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(r.Baseline.Metrics[0].CILo) {
		t.Error("WriteJSON modified the report")
	}
}

func TestFormatNs(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{math.NaN(), "-"}, {0, "0"}, {999, "<1µs"}, {1500, "1.5µs"}, {151_000, "151µs"}, {2.5e6, "2.5ms"}, {3e9, "3s"},
	}
	for _, tt := range tests {
		if got := FormatNs(tt.ns); got != tt.want {
			t.Errorf("FormatNs(%v) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

// The table's ratio is candidate/base whatever the metric, while the gate judges the slowdown:
// a throughput that fell from 40000 to 31000 ops/s must read 0.775 (slower), not 1.290.
func TestTableRatioIsCandidateOverBase(t *testing.T) {
	tests := []struct {
		name        string
		m           MetricResult
		normalized  bool
		ratio, cils string
	}{
		{"ops slower", MetricResult{Metric: MetricOps, Base: 40000, Cand: 31000,
			Comparison: Comparison{MedianRatio: 40000.0 / 31000, CILo: 1.2, CIHi: 1.35, P: 0.01}}, false, "0.775", "[0.741, 0.833]"},
		{"ops faster", MetricResult{Metric: MetricOps, Base: 100, Cand: 200,
			Comparison: Comparison{MedianRatio: 0.5, CILo: 0.4, CIHi: 0.625, P: 0.9}}, false, "2.000", "[1.600, 2.500]"},
		{"latency slower", MetricResult{Metric: MetricP50, Base: 100e3, Cand: 150e3,
			Comparison: Comparison{MedianRatio: 1.5, CILo: 1.25, CIHi: 2, P: 0.01}}, false, "1.500", "[1.250, 2.000]"},
		{"baseline ops slower", MetricResult{Metric: MetricOps, Base: 2, Cand: 4,
			Comparison: Comparison{MedianRatio: 2, CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN()}}, true, "0.500", "-"},
		{"zero value", MetricResult{Metric: MetricOps, Base: 0, Cand: 4,
			Comparison: Comparison{MedianRatio: math.NaN(), CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN()}}, false, "-", "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.m.Cell = "c"
			if err := WriteTable(&buf, []MetricResult{tt.m}, tt.normalized); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 3 || !strings.Contains(lines[0], "ratio = candidate/base") {
				t.Fatalf("want a legend naming candidate/base, a header and one row:\n%s", buf.String())
			}
			f := strings.Fields(lines[2])
			if f[4] != tt.ratio {
				t.Errorf("ratio %q, want %q\n%s", f[4], tt.ratio, buf.String())
			}
			if ci := strings.Join(f[5:5+strings.Count(tt.cils, " ")+1], " "); ci != tt.cils {
				t.Errorf("CI %q, want %q\n%s", ci, tt.cils, buf.String())
			}
		})
	}
}
