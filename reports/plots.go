package reports

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

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

// addFigure renders p. The title goes into Figure.Title only, not into the drawing: the HTML
// page shows it once, as the figure's caption (text a reader can select and search).
func addFigure(figs *[]Figure, section string, p *plot.Plot) error {
	title := p.Title.Text
	p.Title.Text = ""
	svg, err := renderSVG(p)
	if err != nil {
		return fmt.Errorf("reports: plot %q: %w", title, err)
	}
	*figs = append(*figs, Figure{Section: section, Title: title, SVG: svg})
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
	drawWithLegendRight(p, draw.New(c))
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

// legendGap separates the data area from the legend drawn right of it.
const legendGap = 8 // points

// drawWithLegendRight draws p with its legend in a column right of the axes, so the legend never
// covers a line and the axes need no headroom for it: they fit the data alone.
func drawWithLegendRight(p *plot.Plot, c draw.Canvas) {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	defer func() { p.Legend = leg }()
	leg.Top, leg.Left = true, true
	leg.XOffs, leg.YOffs = 0, 0
	w := leg.Rectangle(c).Size().X
	if w > 0 {
		w += vg.Points(legendGap)
	}
	// Cap the legend at a third of the width: a very long label is clipped, not the plot.
	w = min(w, c.Size().X/3)
	p.Draw(draw.Crop(c, 0, -w, 0, 0))
	leg.Draw(draw.Crop(c, c.Size().X-w+vg.Points(legendGap), 0, 0, -vg.Points(legendGap)))
}

// newPlot returns a plot with the report's common styling.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Add(plotter.NewGrid())
	return p
}

// palette has a distinct colour for each of up to ten backends (plotutil's seven wrap, which
// drew the full quick scenario's wwly and tcp-echo in the same red). Colours from Tableau 10.
var palette = []color.RGBA{
	{0xe1, 0x57, 0x59, 0xff}, // red: wwly, always first
	{0x4e, 0x79, 0xa7, 0xff}, // blue
	{0x59, 0xa1, 0x4f, 0xff}, // green
	{0xf2, 0x8e, 0x2b, 0xff}, // orange
	{0xb0, 0x7a, 0xa1, 0xff}, // purple
	{0x9c, 0x75, 0x5f, 0xff}, // brown
	{0xff, 0x9d, 0xa7, 0xff}, // pink
	{0x76, 0xb7, 0xb2, 0xff}, // teal
	{0xed, 0xc9, 0x48, 0xff}, // yellow
	{0x79, 0x70, 0x6e, 0xff}, // grey
}

// backendColor is the colour of the backend at rank i (see Data.BackendOrder).
func backendColor(i int) color.Color {
	return palette[((i%len(palette))+len(palette))%len(palette)]
}

// style colours a line by backend (the same colour in every plot) and dashes variants of
// one backend (tunables, repeats) apart.
func style(l *plotter.Line, backendRank, variant int) {
	l.Color = backendColor(backendRank)
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
	clamped := false
	for _, c := range ran {
		var pts plotter.XYs
		for _, b := range percentileSteps(c.Hist, HgrmTicksPerHalfDistance) {
			if b.Quantile >= 100 {
				continue // 1/(1-1) is infinite; the last finite step already shows the max
			}
			x := 1 / (1 - b.Quantile/100)
			y, cl := latencyUs(b.ValueAt)
			clamped = clamped || cl
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
	p.Y.Min, p.Y.Max = logBounds(ymin, ymax)
	p.Y.Tick.Marker = logTicks{label: latencyLabel, floorLabel: floorLabel(clamped, minLatencyUs)}
	return p, true
}

// floorLabel is the label of an axis' lowest tick when values below it were drawn there.
func floorLabel(clamped bool, floor float64) string {
	if !clamped {
		return ""
	}
	return "≤" + latencyLabel(floor)
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
	// label formats values of a log axis; nil means a linear axis ending at 1 (an index).
	label func(float64) string
	value func(c *Cell) float64
	// floor, when > 0, is the lowest value drawn: smaller values are drawn at it (see latencyUs).
	floor float64
}

var sweepMetrics = []sweepMetric{
	{title: "Throughput vs workers", ylabel: "ops/s", label: countLabel,
		value: func(c *Cell) float64 { return c.OpsPerSec }},
	{title: "p99 acquire latency vs workers", ylabel: "p99 latency", label: latencyLabel,
		value: func(c *Cell) float64 { return float64(latencyOf(c).P99) / 1e3 }, floor: minLatencyUs},
	{title: "Jain fairness vs workers", ylabel: "Jain index (1 = fair)",
		value: func(c *Cell) float64 { return c.Jain }},
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
	clamped := false
	for _, k := range keys {
		var pts plotter.XYs
		for _, w := range workers {
			if a := points[k][w]; a != nil {
				y := a.sum / a.n
				if y < m.floor {
					y, clamped = m.floor, true
				}
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
		p.Y.Min, p.Y.Max = logBounds(ymin, ymax)
		p.Y.Tick.Marker = logTicks{label: m.label, floorLabel: floorLabel(clamped, m.floor)}
	} else {
		// An index up to 1: end at 1 (a little above, so a line at 1 is not on the frame) and
		// start at the tenth below the lowest value, so differences near 1 stay visible.
		p.Y.Min, p.Y.Max = max(0, math.Floor(ymin*10-0.5)/10), 1.02
	}
	return p, true
}

// --- throughput over time ------------------------------------------------------------------

// timelinePlot draws ops/s per hlog interval for each backend of a group: warm-up effects,
// stalls and drift show here and nowhere else.
func timelinePlot(g Group, colors map[string]int, rep bool) (*plot.Plot, bool) {
	p := newPlot("Throughput over time: "+g.Key.String(), "seconds into the measured window", "ops/s per interval (0 drawn at 1)")
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
	p.Y.Tick.Marker = logTicks{label: countLabel}
	p.Y.Min, p.Y.Max = logBounds(ymin, ymax)
	return p, true
}
