package reports

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// TestHgrmFooterMatchesLibrary compares our footer with hdrhistogram-go's own PercentilesPrint
// (whose bucket counts come from private fields we recompute) over several geometries.
func TestHgrmFooterMatchesLibrary(t *testing.T) {
	tests := []struct {
		lowest, highest int64
		sig             int
	}{
		{1, 60_000_000_000, 3},
		{1, 3_600_000_000_000, 2},
		{1000, 10_000_000, 3},
		{1, 2, 1},
		{1, 1 << 62, 5},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d-%d", tt.lowest, tt.highest, tt.sig), func(t *testing.T) {
			h := hdrhistogram.New(tt.lowest, tt.highest, tt.sig)
			for v := int64(1); v < min(tt.highest, 1_000_000); v = v*3 + 1 {
				_ = h.RecordValue(v)
			}
			var ours, theirs bytes.Buffer
			if err := WriteHgrm(&ours, h, Micros); err != nil {
				t.Fatal(err)
			}
			if _, err := h.PercentilesPrint(&theirs, HgrmTicksPerHalfDistance, Micros); err != nil {
				t.Fatal(err)
			}
			lastLine := func(s string) string {
				lines := strings.Split(strings.TrimSpace(s), "\n")
				return lines[len(lines)-1]
			}
			if got, want := lastLine(ours.String()), lastLine(theirs.String()); got != want {
				t.Errorf("footer %q, library prints %q", got, want)
			}
		})
	}
}

// TestHgrmRowsMatchLibrary checks each of our rows against the library's (which rounds the
// percentile to 6 decimals): same values, same counts, same number of rows.
func TestHgrmRowsMatchLibrary(t *testing.T) {
	h := hdrhistogram.New(1, 60_000_000_000, 3)
	for i := int64(1); i <= 10_000; i++ {
		_ = h.RecordValue(i * i)
	}
	var ours, theirs bytes.Buffer
	if err := WriteHgrm(&ours, h, Micros); err != nil {
		t.Fatal(err)
	}
	if _, err := h.PercentilesPrint(&theirs, HgrmTicksPerHalfDistance, Micros); err != nil {
		t.Fatal(err)
	}
	rows := func(s string) [][]string {
		var out [][]string
		for _, l := range strings.Split(s, "\n") {
			f := strings.Fields(l)
			if len(f) >= 3 && !strings.HasPrefix(l, "#") && f[0] != "Value" {
				out = append(out, f)
			}
		}
		return out
	}
	o, th := rows(ours.String()), rows(theirs.String())
	if len(o) != len(th) || len(o) < 20 {
		t.Fatalf("%d rows, library %d", len(o), len(th))
	}
	for i := range o {
		if o[i][0] != th[i][0] || o[i][2] != th[i][2] {
			t.Errorf("row %d: %v, library %v", i, o[i], th[i])
		}
	}
	if !strings.HasPrefix(ours.String(), "       Value     Percentile TotalCount 1/(1-Percentile)\n\n") {
		t.Errorf("header is not the classic one: %q", strings.SplitN(ours.String(), "\n", 2)[0])
	}
}

func TestHgrmEmptyAndBadScale(t *testing.T) {
	h := hdrhistogram.New(1, 1000, 3)
	var b bytes.Buffer
	if err := WriteHgrm(&b, h, Micros); err != nil {
		t.Fatal(err)
	}
	if strings.Count(b.String(), "\n") != 5 || !strings.Contains(b.String(), "Total count    =            0") {
		t.Errorf("empty histogram:\n%s", b.String())
	}
	if err := WriteHgrm(&b, h, 0); err == nil {
		t.Error("WriteHgrm accepted a zero value scale")
	}
}

func ExampleWriteHgrm() {
	h := hdrhistogram.New(1, 60_000_000_000, 3)
	for _, ns := range []int64{10_000, 20_000, 30_000, 40_000, 1_000_000} {
		_ = h.RecordValue(ns)
	}
	_ = WriteHgrm(os.Stdout, h, Micros)
	// Output:
	//        Value     Percentile TotalCount 1/(1-Percentile)
	//
	//       10.007 0.000000000000          1           1.00
	//       10.007 0.100000000000          1           1.11
	//       10.007 0.200000000000          1           1.25
	//       20.015 0.300000000000          2           1.43
	//       20.015 0.400000000000          2           1.67
	//       30.015 0.500000000000          3           2.00
	//       30.015 0.550000000000          3           2.22
	//       30.015 0.600000000000          3           2.50
	//       40.031 0.650000000000          4           2.86
	//       40.031 0.700000000000          4           3.33
	//       40.031 0.750000000000          4           4.00
	//       40.031 0.775000000000          4           4.44
	//       40.031 0.800000000000          4           5.00
	//     1000.447 0.825000000000          5           5.71
	//     1000.447 1.000000000000          5
	// #[Mean    =      220.046, StdDeviation   =      390.201]
	// #[Max     =     1000.447, Total count    =            5]
	// #[Buckets =           26, SubBuckets     =         2048]
}

// TestPercentileStepsTerminates: hdrhistogram-go's CumulativeDistributionWithTicks never
// returns for this histogram (its reporting step underflows); ours stops and still ends at 100%.
func TestPercentileStepsTerminates(t *testing.T) {
	h := hdrhistogram.New(1, 1_000_000, 3)
	_ = h.RecordValues(10, 1<<60)
	_ = h.RecordValues(1000, 1)
	steps := percentileSteps(h, HgrmTicksPerHalfDistance)
	if len(steps) == 0 || len(steps) > maxPercentileSteps+1 {
		t.Fatalf("%d steps", len(steps))
	}
	last := steps[len(steps)-1]
	if last.Quantile != 100 || last.Count != h.TotalCount() || last.ValueAt != h.Max() {
		t.Errorf("last step %+v, want 100%% of %d at %d", last, h.TotalCount(), h.Max())
	}
	var b bytes.Buffer
	if err := WriteHgrm(&b, h, Micros); err != nil {
		t.Fatal(err)
	}
}

// TestPercentileStepsMatchLibrary compares with the library's iterator where it terminates.
func TestPercentileStepsMatchLibrary(t *testing.T) {
	for _, n := range []int64{1, 2, 7, 100, 12345} {
		h := hdrhistogram.New(1, 60_000_000_000, 3)
		for i := int64(1); i <= n; i++ {
			_ = h.RecordValue(i * 997)
		}
		got := percentileSteps(h, HgrmTicksPerHalfDistance)
		want := h.CumulativeDistributionWithTicks(HgrmTicksPerHalfDistance)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("n=%d:\n got %v\nwant %v", n, got, want)
		}
	}
}
