// Package units formats measured quantities for people. It is the one place wwly decides how a
// latency reads, so the CLI summary, the gate and tune tables, report.md, report.html and the
// report's plot axes all show the same value the same way. Standard library only, so any
// package may import it.
package units

import (
	"math"
	"strconv"
)

// Latency renders nanoseconds with three significant digits, the precision of the harness's
// HdrHistograms: "12.3µs", "182µs", "4.56ms", "1.2s". Values below 1 µs print as "<1µs": the
// histograms start at 1 µs (values below it share 512 ns buckets), so a finer number would
// pretend a precision that was never measured. Zero and negative values print as "0".
func Latency(ns int64) string {
	switch {
	case ns <= 0:
		return "0"
	case ns < 1_000:
		return "<1µs"
	}
	// Round first, then pick the unit, so 999.6 µs prints as "1ms", not "1e+03µs".
	v, unit := roundSig(float64(ns)/1e3, 3), "µs"
	for _, u := range []string{"ms", "s"} {
		if v < 1000 {
			break
		}
		v, unit = roundSig(v/1000, 3), u
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + unit
}

// LatencyFloat is Latency for a float nanosecond value (a median or mean); NaN prints as "-".
func LatencyFloat(ns float64) string {
	if math.IsNaN(ns) {
		return "-"
	}
	if ns <= 0 {
		return "0"
	}
	if ns >= math.MaxInt64 { // +Inf included
		return "inf"
	}
	return Latency(int64(math.Round(ns)))
}

// roundSig rounds v > 0 to n significant digits.
func roundSig(v float64, n int) float64 {
	scale := math.Pow(10, float64(n)-math.Ceil(math.Log10(v)))
	return math.Round(v*scale) / scale
}
