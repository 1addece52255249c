package reports

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// RenderHTML writes report.html's content: the same tables as the markdown report plus every
// plot of Figures, inlined as SVG. The page loads nothing from anywhere (no external CSS, JS,
// fonts or images), so it opens offline and can be mailed as one file.
func RenderHTML(w io.Writer, d *Data) error {
	figs, err := Figures(d)
	if err != nil {
		return err
	}
	page := htmlPage{
		Title:     "wwly bench report: " + orDash(d.Run.ID),
		Scenario:  orDash(d.Run.Config.Name),
		Started:   d.Run.Started.UTC().Format(time.RFC3339),
		Commit:    orDash(d.Run.Commit),
		Cells:     len(d.Run.Cells),
		Floor:     FloorBackend,
		Problems:  d.problems(),
		Skips:     d.skips(),
		Machine:   d.machineRows(),
		Versions:  d.versionRows(),
		Reproduce: d.Reproduce(),
		Hgrms:     d.hgrmFiles(),
		Prims:     primitiveSections(d),
	}
	rep := d.multiRepeat()
	for _, g := range d.Groups() {
		page.Groups = append(page.Groups, htmlGroup{
			Title:       g.Key.String(),
			Table:       groupTable(g, rep),
			Skipped:     strings.Join(skippedIn(g), ", "),
			Uncorrected: uncorrectedNote(g, rep),
		})
	}
	for _, f := range figs {
		hf := htmlFigure{Title: f.Title, SVG: template.HTML(f.SVG)} // #nosec: SVG is gonum's output, not user text
		switch f.Section {
		case "spectrum":
			page.Spectrum = append(page.Spectrum, hf)
		case "sweep":
			page.Sweep = append(page.Sweep, hf)
		default:
			page.Timeline = append(page.Timeline, hf)
		}
	}
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, page); err != nil {
		return fmt.Errorf("reports: rendering html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: writing html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Title, Scenario, Started, Commit string
	Cells                            int
	Floor                            string
	Problems                         []problem
	Groups                           []htmlGroup
	Skips                            []skip
	Machine, Versions                [][2]string
	Reproduce                        string
	Hgrms                            [][2]string
	Spectrum, Sweep, Timeline        []htmlFigure
	Prims                            []primSection
}

type htmlGroup struct {
	Title                string
	Table                table
	Skipped, Uncorrected string
}

type htmlFigure struct {
	Title string
	SVG   template.HTML
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"dec": func(n int) int { return n - 1 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 80em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }
th { background: #f0f0f0; }
td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr.alert td { background: #fdd; }
td.span { text-align: left; }
.problems { border: 3px solid #c00; background: #fee; padding: 0.5em 1em; }
.problems h2 { color: #c00; margin-top: 0.2em; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 0.5em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Scenario <code>{{.Scenario}}</code>, started {{.Started}}, commit <code>{{.Commit}}</code>, {{.Cells}} cells.
Latency is lock-acquire latency. Ratios divide a row by the reference backend of the same group and repeat:
ops/s above 1× is faster, p99 below 1× is better.
<code>{{.Floor}}</code> is the floor: one loopback TCP round trip per op, no lock.</p>
{{if .Problems}}<section id="problems" class="problems">
<h2>⚠ PROBLEMS ({{len .Problems}})</h2>
<ul>{{range .Problems}}
<li><strong>{{.What}}</strong> {{.Cell}}: {{.Why}}</li>{{end}}
</ul>
</section>
{{else}}<p id="problems">No failed cells, no mutual-exclusion violations.</p>
{{end}}
<section id="results">
<h2>Results</h2>
{{range .Groups}}<h3>{{.Title}}</h3>
{{if .Table.Rows}}<table>
<tr>{{range .Table.Header}}<th>{{.}}</th>{{end}}</tr>
{{$cols := len .Table.Header}}{{range .Table.Rows}}{{$row := .}}<tr{{if .Alert}} class="alert"{{end}}>{{if .Span}}<td>{{index .Cells 0}}</td><td class="span" colspan="{{dec $cols}}"><strong>{{index .Cells 1}}</strong></td>{{else}}{{range $i, $c := .Cells}}<td{{if ne $i 0}} class="r"{{end}}>{{if index $row.Strong $i}}<strong>{{$c}}</strong>{{else}}{{$c}}{{end}}</td>{{end}}{{end}}</tr>
{{end}}</table>
{{else}}<p>No backend ran in this group.</p>
{{end}}{{if .Skipped}}<p>Skipped: {{.Skipped}}.</p>
{{end}}{{if .Uncorrected}}<p>{{.Uncorrected}}</p>
{{end}}{{end}}</section>
{{if .Prims}}<section id="primitives">
<h2>Primitives</h2>
{{range .Prims}}<h3>{{.Title}}</h3>
<p>{{.Intro}}</p>
<table>
<tr>{{range .Table.Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Table.Rows}}<tr{{if .Alert}} class="alert"{{end}}>{{range $i, $c := .Cells}}<td{{if ne $i 0}} class="r"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table>
{{end}}</section>
{{end}}<section id="spectrum">
<h2>Latency by percentile</h2>
<p>HdrHistogram-style: the x axis stretches the tail (1/(1−p) on a log scale), both axes logarithmic.</p>
{{range .Spectrum}}<figure><figcaption>{{.Title}}</figcaption>
{{.SVG}}</figure>
{{end}}</section>
<section id="sweep">
<h2>Scaling with workers</h2>
{{range .Sweep}}<figure><figcaption>{{.Title}}</figcaption>
{{.SVG}}</figure>
{{end}}</section>
<section id="timeline">
<h2>Throughput over time</h2>
{{range .Timeline}}<figure><figcaption>{{.Title}}</figcaption>
{{.SVG}}</figure>
{{end}}</section>
<section id="skipped">
<h2>Skipped backends</h2>
{{if .Skips}}<table>
<tr><th>backend</th><th>reason</th><th>cells</th></tr>
{{range .Skips}}<tr><td>{{.Backend}}</td><td>{{.Reason}}</td><td class="r">{{.Cells}}</td></tr>
{{end}}</table>
{{else}}<p>None: every configured backend ran.</p>
{{end}}</section>
<section id="machine">
<h2>Machine and versions</h2>
<table>
{{range .Machine}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}{{range .Versions}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}</table>
</section>
<section id="reproduce">
<h2>Reproduce</h2>
<pre>{{.Reproduce}}</pre>
{{if .Hgrms}}<p>Percentile distributions (HdrHistogram .hgrm, µs), next to this file:</p>
<ul>{{range .Hgrms}}
<li><a href="{{index . 1}}">{{index . 0}}</a></li>{{end}}
</ul>{{end}}
</section>
</body>
</html>
`))
