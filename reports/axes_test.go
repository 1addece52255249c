package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestLogBounds(t *testing.T) {
	tests := []struct{ lo, hi, wantLo, wantHi float64 }{
		{13e3, 41e3, 10e3, 50e3},
		{1, 1, 1, 2},
		{10e3, 10e3, 10e3, 20e3},
		{0.9, 1.2e6, 0.5, 2e6},
		{34.4, 7570, 20, 10e3},
		{2.1, 4.9, 2, 5},
		{999, 1001, 500, 2000},
	}
	for _, tt := range tests {
		lo, hi := logBounds(tt.lo, tt.hi)
		if !near(lo, tt.wantLo) || !near(hi, tt.wantHi) {
			t.Errorf("logBounds(%v, %v) = [%v, %v], want [%v, %v]", tt.lo, tt.hi, lo, hi, tt.wantLo, tt.wantHi)
		}
		if lo > tt.lo || hi < tt.hi {
			t.Errorf("logBounds(%v, %v) = [%v, %v] does not contain the data", tt.lo, tt.hi, lo, hi)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }

// A log axis always has at least two labels, the decades, and the 2 and 5 steps when it spans
// less than two decades; a clamped floor is labelled as such.
func TestLogTicks(t *testing.T) {
	tests := []struct {
		name   string
		ticker logTicks
		lo, hi float64
		want   []string
	}{
		{"narrow", logTicks{label: countLabel}, 10e3, 50e3, []string{"10k", "20k", "50k"}},
		{"within a decade", logTicks{label: countLabel}, 20e3, 50e3, []string{"20k", "50k"}},
		{"wide", logTicks{label: countLabel}, 1e3, 1e6, []string{"1k", "10k", "100k", "1M"}},
		{"latency", logTicks{label: latencyLabel}, 1, 1e4, []string{"1µs", "10µs", "100µs", "1ms", "10ms"}},
		{"clamped floor", logTicks{label: latencyLabel, floorLabel: "≤1µs"}, 1, 20, []string{"≤1µs", "2µs", "5µs", "10µs", "20µs"}},
		{"empty", logTicks{label: countLabel}, 0, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tk := range tt.ticker.Ticks(tt.lo, tt.hi) {
				if tk.Label != "" {
					got = append(got, tk.Label)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("labels %q, want %q", got, tt.want)
			}
		})
	}
}

// Each plot's title appears once in the page: as its figure caption, not again in the SVG.
func TestPlotTitlesOnce(t *testing.T) {
	_, d, paths := renderSample(t)
	figs, err := Figures(d)
	if err != nil {
		t.Fatal(err)
	}
	html := string(readFile(t, paths.HTML))
	for _, f := range figs {
		if f.Title == "" {
			t.Fatal("figure without a title")
		}
		if strings.Contains(string(f.SVG), ">"+f.Title+"<") {
			t.Errorf("SVG of %q draws its title too", f.Title)
		}
		if n := strings.Count(html, f.Title+"<"); n != 1 {
			t.Errorf("title %q appears %d times in the page, want 1", f.Title, n)
		}
	}
}

// Every backend of the full scenario (eight, with the tcp-echo floor) gets its own colour.
func TestBackendColorsDistinct(t *testing.T) {
	seen := map[string]int{}
	for i := range len(palette) {
		r, g, b, _ := backendColor(i).RGBA()
		key := fmt.Sprint(r, g, b)
		if j, ok := seen[key]; ok {
			t.Errorf("backends %d and %d share a colour", j, i)
		}
		seen[key] = i
	}
	if len(palette) < 8 {
		t.Errorf("%d colours for the 8 backends of the full scenario", len(palette))
	}
}
