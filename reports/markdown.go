package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// RenderMarkdown writes report.md's content for d. The output depends only on d: maps are
// walked in sorted order and every number has a fixed format, so equal inputs give equal bytes.
func RenderMarkdown(w io.Writer, d *Data) error {
	bw := bufio.NewWriter(w)
	r := &mdWriter{w: bw}
	r.report(d)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: writing markdown: %w", err)
	}
	return nil
}

type mdWriter struct{ w *bufio.Writer }

func (m *mdWriter) p(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

func (m *mdWriter) report(d *Data) {
	run := d.Run
	m.p("# wwly bench report: %s\n\n", mdEscape(orDash(run.ID)))
	m.p("Scenario `%s`, started %s, commit `%s`, %d cells.\n\n",
		orDash(run.Config.Name), run.Started.UTC().Format(time.RFC3339), orDash(run.Commit), len(run.Cells))
	m.p("Latency is lock-acquire latency. Ratios divide this row by the reference backend of the same "+
		"group and repeat: ops/s above 1× is faster, p99 below 1× is better. `%s` is the floor: one "+
		"loopback TCP round trip per op, no lock.\n\n", FloorBackend)

	m.problems(d)

	m.p("## Results\n\n")
	rep := d.multiRepeat()
	for _, g := range d.Groups() {
		m.p("### %s\n\n", g.Key)
		t := groupTable(g, rep)
		if len(t.Rows) > 0 {
			m.table(t)
		} else {
			m.p("No backend ran in this group.\n\n")
		}
		if s := skippedIn(g); len(s) > 0 {
			m.p("Skipped: %s.\n\n", mdEscape(strings.Join(s, ", ")))
		}
		if note := uncorrectedNote(g, rep); note != "" {
			m.p("%s\n\n", mdEscape(note))
		}
	}

	if ps := primitiveSections(d); len(ps) > 0 {
		m.p("## Primitives\n\n")
		for _, p := range ps {
			m.p("### %s\n\n%s\n\n", mdEscape(p.Title), mdEscape(p.Intro))
			m.table(p.Table)
		}
	}

	m.p("## Skipped backends\n\n")
	if sk := d.skips(); len(sk) == 0 {
		m.p("None: every configured backend ran.\n\n")
	} else {
		t := table{Header: []string{"backend", "reason", "cells"}, Align: []string{"l", "l", "r"}}
		for _, s := range sk {
			t.Rows = append(t.Rows, tableRow{Cells: []string{s.Backend, s.Reason, fmt.Sprint(s.Cells)}})
		}
		m.table(t)
	}

	m.p("## Machine\n\n")
	m.kv(d.machineRows())
	m.p("## Versions\n\n")
	if v := d.versionRows(); len(v) > 0 {
		m.kv(v)
	} else {
		m.p("Not recorded.\n\n")
	}

	m.p("## Configuration\n\n")
	c := run.Config
	m.kv([][2]string{
		{"backends", strings.Join(c.Backends, ", ")},
		{"workers", joinInts(c.Workers)},
		{"locks", joinInts(c.Locks)},
		{"hold", c.Hold.String()},
		{"duration", c.Duration.String()},
		{"warmup", c.Warmup.String()},
		{"rate (ops/s per worker, 0 = closed loop)", fmtFloat(c.Rate)},
		{"repeat", fmt.Sprint(c.Repeat)},
		{"seed", fmt.Sprint(c.Seed)},
		{"server args", orDash(strings.Join(c.ServerArgs, " "))},
	})

	m.p("## Reproduce\n\n```sh\n%s```\n\n", d.Reproduce())

	if files := d.hgrmFiles(); len(files) > 0 {
		m.p("## Percentile distributions\n\n")
		m.p("One HdrHistogram `.hgrm` per cell (values in µs), readable by " +
			"https://hdrhistogram.github.io/HdrHistogram/plotFiles.html.\n\n")
		for _, f := range files {
			m.p("- [%s](%s)\n", mdEscape(f[0]), f[1])
		}
		m.p("\n")
	}
}

func (m *mdWriter) problems(d *Data) {
	ps := d.problems()
	if len(ps) == 0 {
		m.p("No failed cells, no mutual-exclusion violations.\n\n")
		return
	}
	m.p("## ⚠ PROBLEMS (%d)\n\n", len(ps))
	for _, p := range ps {
		m.p("- **%s** %s: %s\n", p.What, mdEscape(p.Cell), mdEscape(p.Why))
	}
	m.p("\n")
}

func (m *mdWriter) table(t table) {
	m.p("|")
	for _, h := range t.Header {
		m.p(" %s |", mdEscape(h))
	}
	m.p("\n|")
	for i := range t.Header {
		if i < len(t.Align) && t.Align[i] == "r" {
			m.p("---:|")
		} else {
			m.p("---|")
		}
	}
	m.p("\n")
	for _, r := range t.Rows {
		m.p("|")
		for i, c := range r.Cells {
			if r.Strong[i] && c != "" {
				m.p(" **%s** |", mdEscape(c))
			} else {
				m.p(" %s |", mdEscape(c))
			}
		}
		m.p("\n")
	}
	m.p("\n")
}

func (m *mdWriter) kv(rows [][2]string) {
	t := table{Header: []string{"", ""}, Align: []string{"l", "l"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, tableRow{Cells: []string{r[0], orDash(r[1])}})
	}
	m.table(t)
}

// mdEscape keeps free text (backend names, error messages) from turning into markup.
func mdEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
