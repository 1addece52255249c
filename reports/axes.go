package reports

import (
	"math"
	"strconv"
	"strings"

	"github.com/wwly/wwly/units"
	"gonum.org/v1/plot"
)

// Axis helpers shared by every plot: log-axis bounds that fit the data, tick markers, and the
// labels of latency and count axes. Latency labels use units.Latency, like every table.

// minLatencyUs is the lowest latency a plot draws, in µs: the histograms do not resolve less
// (see units.Latency), so smaller values are drawn at this floor, labelled "≤1µs".
const minLatencyUs = 1.0

// latencyUs converts a histogram value in ns to a plotted value in µs, clamped to the floor.
func latencyUs(ns int64) (us float64, clamped bool) {
	us = float64(ns) / 1e3
	if us < minLatencyUs {
		return minLatencyUs, true
	}
	return us, false
}

// logBounds returns the tightest 1-2-5 steps around [lo, hi] (lo > 0), so a log axis fits its
// data and still starts and ends on a labelled value: [13k, 41k] gives [10k, 50k].
func logBounds(lo, hi float64) (float64, float64) {
	a, b := niceBelow(lo), niceAbove(hi)
	if b <= a {
		b = niceAbove(a * 1.01)
	}
	return a, b
}

var steps125 = []float64{1, 2, 5, 10}

// niceBelow is the largest 1-2-5 step ≤ v (v > 0).
func niceBelow(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for i := len(steps125) - 2; i > 0; i-- {
		if m := steps125[i] * d; m <= v*(1+1e-9) {
			return m
		}
	}
	return d
}

// niceAbove is the smallest 1-2-5 step ≥ v (v > 0).
func niceAbove(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range steps125 {
		if m*d >= v*(1-1e-9) {
			return m * d
		}
	}
	return 10 * d
}

// logTicks marks a log axis: a labelled tick at each power of ten, minor ticks in between, and,
// when the axis spans less than two decades (too few powers of ten to read it), labels at the
// 2 and 5 steps as well. label formats a value in the axis' unit; floorLabel, when set,
// replaces the label of the tick at the axis' lower end (e.g. "≤1µs" where values were clamped).
type logTicks struct {
	label      func(float64) string
	floorLabel string
}

var _ plot.Ticker = logTicks{}

func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi > lo) {
		return nil
	}
	narrow := hi/lo < 100*(1+1e-9)
	var ticks []plot.Tick
	first, last := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	for d := first; d <= last && d-first < 40; d++ {
		for m := 1; m < 10; m++ {
			v := float64(m) * math.Pow10(d)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			tk := plot.Tick{Value: v}
			if m == 1 || (narrow && (m == 2 || m == 5)) {
				tk.Label = t.label(v)
				if t.floorLabel != "" && v <= lo*(1+1e-9) {
					tk.Label = t.floorLabel
				}
			}
			ticks = append(ticks, tk)
		}
	}
	return ticks
}

// percentileTicks labels a 1/(1-p) log axis with percentiles at each decade: 1 → 0%,
// 10 → 90%, 100 → 99%, 1000 → 99.9%, and so on.
type percentileTicks struct{}

var _ plot.Ticker = percentileTicks{}

func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for d := 0; d <= 12; d++ {
		v := math.Pow10(d)
		if v < lo*0.999 || v > hi*1.001 {
			continue
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: percentileLabel(d)})
		for m := 2; m < 10 && d < 12; m++ {
			if mv := v * float64(m); mv <= hi {
				ticks = append(ticks, plot.Tick{Value: mv})
			}
		}
	}
	return ticks
}

// percentileLabel is the percentile at 1/(1-p) = 10^d: d nines.
func percentileLabel(d int) string {
	switch d {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	}
	return "99." + strings.Repeat("9", d-2) + "%"
}

// latencyLabel labels a latency axis value given in µs, as units.Latency prints it: "1µs",
// "10ms", "1s".
func latencyLabel(us float64) string {
	return units.Latency(int64(math.Round(us * 1e3)))
}

// countLabel labels a rate axis value: "100", "20k", "1M".
func countLabel(v float64) string {
	switch {
	case v < 1e3:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v < 1e6:
		return strconv.FormatFloat(v/1e3, 'g', -1, 64) + "k"
	case v < 1e9:
		return strconv.FormatFloat(v/1e6, 'g', -1, 64) + "M"
	}
	return strconv.FormatFloat(v/1e9, 'g', -1, 64) + "G"
}
