package gate

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
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
	if err := WriteTable(&buf, []MetricResult{{Cell: "wwly W=8 L=1", Metric: MetricP90, Gated: true, Base: 2.5, Cand: 3.1,
		Comparison: Comparison{N: 1, MedianRatio: 1.24, CILo: math.NaN(), CIHi: math.NaN(), P: math.NaN(), Verdict: Regression, Why: "slowdown +24.0% >= 10%"}}}, true); err != nil {
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
	for in, want := range map[float64]string{999: "999ns", 1500: "1.5µs", 2.5e6: "2.5ms", 3e9: "3s", math.NaN(): "-"} {
		if got := FormatNs(in); got != want && !(math.IsNaN(in) && got == "-") {
			t.Errorf("FormatNs(%v) = %q, want %q", in, got, want)
		}
	}
}
