package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one rendered plot.
type Figure struct {
	// Section groups figures in the HTML report: "spectrum", "sweep" or "timeline".
	Section string
	Title   string
	// SVG is a standalone <svg> element (no XML prolog), ready to inline into HTML.
	SVG []byte
}

// Plot sizes: wide enough for a legend of a handful of backends.
const (
	plotW = 7 * vg.Inch
	plotH = 4 * vg.Inch
)

// Figures renders every plot of the report, in a fixed order: per scenario group the
// percentile spectrum; per series (locks × hold × mode) throughput, p99 and Jain fairness vs
// workers; per group ops/s over time. Groups or series with nothing measured get no figure.
func Figures(d *Data) ([]Figure, error) {
	var figs []Figure
	colors := d.backendRank()
	rep := d.multiRepeat()
	groups := d.Groups()
	for _, g := range groups {
		p, ok := spectrumPlot(g, colors, rep)
		if !ok {
			continue
		}
		if err := addFigure(&figs, "spectrum", p); err != nil {
			return nil, err
		}
	}
	for _, s := range seriesOf(groups) {
		for _, m := range sweepMetrics {
			p, ok := sweepPlot(s, m, colors)
			if !ok {
				continue
			}
			if err := addFigure(&figs, "sweep", p); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range groups {
		p, ok := timelinePlot(g, colors, rep)
		if !ok {
			continue
		}
		if err := addFigure(&figs, "timeline", p); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

func addFigure(figs *[]Figure, section string, p *plot.Plot) error {
	svg, err := renderSVG(p)
	if err != nil {
		return fmt.Errorf("reports: plot %q: %w", p.Title.Text, err)
	}
	*figs = append(*figs, Figure{Section: section, Title: p.Title.Text, SVG: svg})
	return nil
}

// renderSVG draws p on a vgsvg canvas and returns the <svg> element alone. Fonts are not
// embedded: the SVG names the font family and the browser substitutes, which keeps each plot
// a few tens of kB.
func renderSVG(p *plot.Plot) (svg []byte, err error) {
	// gonum/plot panics on degenerate input (e.g. a non-positive value on a log axis); the
	// callers filter such points, but a report must fail with an error, not crash.
	defer func() {
		if r := recover(); r != nil {
			svg, err = nil, fmt.Errorf("drawing: %v", r)
		}
	}()
	c := vgsvg.New(plotW, plotH)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if i := bytes.Index(b, []byte("<svg")); i >= 0 {
		b = b[i:]
	}
	return b, nil
}

// newPlot returns a plot with the report's common styling.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = true
	// Keep the legend off the y axis' tick labels and below the title.
	p.Legend.XOffs = vg.Points(10)
	p.Legend.YOffs = -vg.Points(4)
	p.Add(plotter.NewGrid())
	return p
}

// style colours a line by backend (the same colour in every plot) and dashes variants of
// one backend (tunables, repeats) apart.
func style(l *plotter.Line, backendRank, variant int) {
	l.Color = plotutil.Color(backendRank)
	l.Width = vg.Points(1.5)
	l.Dashes = plotutil.Dashes(variant)
}

// variants numbers the cells of each backend within a list, for dashing.
func variants(cells []*Cell) map[*Cell]int {
	n := map[string]int{}
	out := map[*Cell]int{}
	for _, c := range cells {
		out[c] = n[c.Backend]
		n[c.Backend]++
	}
	return out
}

// --- percentile spectrum -------------------------------------------------------------------

// spectrumPlot is HdrHistogram's percentile plot: x is 1/(1-p) on a log axis labelled with
// percentiles (90%, 99%, 99.9%, ...), y is latency on a log axis, one line per backend.
func spectrumPlot(g Group, colors map[string]int, rep bool) (*plot.Plot, bool) {
	p := newPlot("Acquire latency by percentile: "+g.Key.String(), "percentile", "latency")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = decadeTicks{label: latencyLabel}
	var ran []*Cell
	for _, c := range g.Cells {
		if c.Ran() && c.Hist != nil && c.Hist.TotalCount() > 0 {
			ran = append(ran, c)
		}
	}
	if len(ran) == 0 {
		return nil, false
	}
	vars := variants(ran)
	xmax, ymin, ymax := 10.0, math.Inf(1), math.Inf(-1)
	for _, c := range ran {
		var pts plotter.XYs
		for _, b := range percentileSteps(c.Hist, HgrmTicksPerHalfDistance) {
			if b.Quantile >= 100 {
				continue // 1/(1-1) is infinite; the last finite step already shows the max
			}
			x := 1 / (1 - b.Quantile/100)
			y := max(float64(b.ValueAt), 1) / 1e3
			pts = append(pts, plotter.XY{X: x, Y: y})
			xmax, ymin, ymax = max(xmax, x), min(ymin, y), max(ymax, y)
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		style(l, colors[c.Backend], vars[c])
		p.Add(l)
		p.Legend.Add(c.label(rep), l)
	}
	if math.IsInf(ymin, 0) {
		return nil, false
	}
	p.X.Min, p.X.Max = 1, math.Pow(10, math.Ceil(math.Log10(xmax)))
	p.Y.Min, p.Y.Max = logBoundsWithLegend(ymin, ymax)
	return p, true
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

// logBoundsWithLegend pads [lo, hi] out to whole decades so log axes start and end on a
// labelled tick, plus headroom above the data for the legend drawn in the top-left corner.
func logBoundsWithLegend(lo, hi float64) (float64, float64) {
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	decades := math.Ceil(math.Log10(hi / lo))
	// The legend takes about a quarter of the height: give it a quarter of the decades.
	decades += math.Max(1, math.Ceil(decades/3))
	return lo, lo * math.Pow(10, decades)
}

// decadeTicks marks a log axis with a labelled tick at each power of ten and minor ticks in
// between; label formats a decade value in the axis' unit.
type decadeTicks struct{ label func(float64) string }

var _ plot.Ticker = decadeTicks{}

func (t decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= 0 {
		return nil
	}
	var ticks []plot.Tick
	first, last := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	for d := first; d <= last && d-first < 40; d++ {
		v := math.Pow10(d)
		if v >= lo*0.999 && v <= hi*1.001 {
			ticks = append(ticks, plot.Tick{Value: v, Label: t.label(v)})
		}
		for m := 2; m < 10; m++ {
			if mv := v * float64(m); mv >= lo && mv <= hi {
				ticks = append(ticks, plot.Tick{Value: mv})
			}
		}
	}
	return ticks
}

// latencyLabel labels a decade of microseconds: "1 µs", "10 ms", "1 s".
func latencyLabel(us float64) string {
	switch {
	case us < 1:
		return strconv.FormatFloat(us*1000, 'g', -1, 64) + " ns"
	case us < 1e3:
		return strconv.FormatFloat(us, 'g', -1, 64) + " µs"
	case us < 1e6:
		return strconv.FormatFloat(us/1e3, 'g', -1, 64) + " ms"
	}
	return strconv.FormatFloat(us/1e6, 'g', -1, 64) + " s"
}

// countLabel labels a decade of a rate: "100", "10k", "1M".
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

// --- metrics vs workers --------------------------------------------------------------------

// series is the groups that differ only by worker count.
type series struct {
	Key    GroupKey
	Groups []Group
}

func seriesOf(groups []Group) []series {
	var out []series
	for _, g := range groups {
		k := g.Key.series()
		i := slices.IndexFunc(out, func(s series) bool { return s.Key == k })
		if i < 0 {
			out = append(out, series{Key: k})
			i = len(out) - 1
		}
		out[i].Groups = append(out[i].Groups, g)
	}
	return out
}

type sweepMetric struct {
	title, ylabel string
	// label formats decades of a log axis; nil means a linear 0–1 axis.
	label func(float64) string
	value func(c *Cell) float64
}

var sweepMetrics = []sweepMetric{
	{"Throughput vs workers", "ops/s", countLabel, func(c *Cell) float64 { return c.OpsPerSec }},
	{"p99 acquire latency vs workers", "p99 latency", latencyLabel, func(c *Cell) float64 { return float64(latencyOf(c).P99) / 1e3 }},
	{"Jain fairness vs workers", "Jain index (1 = fair)", nil, func(c *Cell) float64 { return c.Jain }},
}

// sweepPlot draws one metric against the worker count, one line per backend variant; repeats
// of a cell are averaged. Workers are on a log axis with a tick at each measured count.
func sweepPlot(s series, m sweepMetric, colors map[string]int) (*plot.Plot, bool) {
	p := newPlot(m.title+": "+s.Key.seriesString(), "workers", m.ylabel)
	type lineKey struct{ backend, label string }
	type acc struct{ sum, n float64 }
	points := map[lineKey]map[int]*acc{}
	var keys []lineKey
	var workers []int
	for _, g := range s.Groups {
		for _, c := range g.Cells {
			v := m.value(c)
			if !c.Ran() || math.IsNaN(v) || math.IsInf(v, 0) || (m.label != nil && v <= 0) {
				continue
			}
			k := lineKey{c.Backend, c.label(false)}
			if points[k] == nil {
				points[k] = map[int]*acc{}
				keys = append(keys, k)
			}
			if points[k][c.Workers] == nil {
				points[k][c.Workers] = &acc{}
			}
			points[k][c.Workers].sum += v
			points[k][c.Workers].n++
			if !slices.Contains(workers, c.Workers) {
				workers = append(workers, c.Workers)
			}
		}
	}
	if len(keys) == 0 {
		return nil, false
	}
	slices.Sort(workers)
	slices.SortStableFunc(keys, func(a, b lineKey) int {
		return cmp.Or(cmp.Compare(colors[a.backend], colors[b.backend]), cmp.Compare(a.label, b.label))
	})
	variant := map[string]int{}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, k := range keys {
		var pts plotter.XYs
		for _, w := range workers {
			if a := points[k][w]; a != nil {
				y := a.sum / a.n
				pts = append(pts, plotter.XY{X: float64(w), Y: y})
				ymin, ymax = min(ymin, y), max(ymax, y)
			}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		style(l, colors[k.backend], variant[k.backend])
		sc.Color = l.Color
		variant[k.backend]++
		p.Add(l, sc)
		p.Legend.Add(k.label, l, sc)
	}
	wmin, wmax := float64(workers[0]), float64(workers[len(workers)-1])
	if wmin <= 0 {
		wmin = 1
	}
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = wmin/1.5, wmax*1.5
	var ticks plot.ConstantTicks
	for _, w := range workers {
		ticks = append(ticks, plot.Tick{Value: float64(w), Label: strconv.Itoa(w)})
	}
	p.X.Tick.Marker = ticks
	if m.label != nil {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = decadeTicks{label: m.label}
		p.Y.Min, p.Y.Max = logBoundsWithLegend(ymin, ymax)
	} else {
		p.Y.Min, p.Y.Max = 0, 1.05
		p.Legend.Top = false
	}
	return p, true
}

// --- throughput over time ------------------------------------------------------------------

// timelinePlot draws ops/s per hlog interval for each backend of a group: warm-up effects,
// stalls and drift show here and nowhere else.
func timelinePlot(g Group, colors map[string]int, rep bool) (*plot.Plot, bool) {
	p := newPlot("Throughput over time: "+g.Key.String(), "seconds into the measured window", "ops/s per interval")
	var ran []*Cell
	for _, c := range g.Cells {
		if c.Ran() && len(c.Intervals) > 0 {
			ran = append(ran, c)
		}
	}
	if len(ran) == 0 {
		return nil, false
	}
	vars := variants(ran)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, c := range ran {
		pts := make(plotter.XYs, 0, len(c.Intervals))
		for _, iv := range c.Intervals {
			// Plot at the interval's end: the rate is what the interval achieved. The axis is
			// logarithmic (backends differ by orders of magnitude), so an interval with no
			// completed op is drawn at the floor of 1 op/s rather than dropped.
			y := max(iv.OpsPerSec(), 1)
			pts = append(pts, plotter.XY{X: iv.StartSec + iv.LengthSec, Y: y})
			ymin, ymax = min(ymin, y), max(ymax, y)
		}
		if len(pts) == 0 {
			continue
		}
		// Points as well as lines: a short window may have a single interval.
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		style(l, colors[c.Backend], vars[c])
		sc.Color = l.Color
		sc.Radius = vg.Points(2)
		p.Add(l, sc)
		p.Legend.Add(c.label(rep), l, sc)
	}
	if math.IsInf(ymin, 0) {
		return nil, false
	}
	p.X.Min = 0
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = decadeTicks{label: countLabel}
	p.Y.Min, p.Y.Max = logBoundsWithLegend(ymin, ymax)
	return p, true
}
