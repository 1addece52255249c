package reports

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wwly/wwly/loadgen"
	"gopkg.in/yaml.v3"
)

// table is a rendered-to-text table shared by the markdown and HTML renderers, so both show
// exactly the same numbers.
type table struct {
	Header []string
	// Align is "l" or "r" per column.
	Align []string
	Rows  []tableRow
}

type tableRow struct {
	Cells []string
	// Strong marks cells (by index) to show in bold.
	Strong map[int]bool
	// Alert marks a row that must stand out (failed cell, violated exclusion).
	Alert bool
	// Span, when > 0, says the row's second cell spans the rest of the row (a failed cell's
	// reason); the others are empty. HTML merges them; markdown, which cannot, leaves them blank.
	Span bool
}

// maxReasonInTable bounds a failure reason inside a table row: a server's whole start-up log
// must not stretch a column to the height of the page. The PROBLEMS list has it in full.
const maxReasonInTable = 160

var groupHeader = []string{
	"backend", "ops/s", "p50", "p90", "p99", "p99.9", "max", "Jain", "violations", "errors",
	"ops/s ÷ " + BaselineBackend, "p99 ÷ " + BaselineBackend,
	"ops/s ÷ " + FloorBackend, "p99 ÷ " + FloorBackend,
}

// latencyOf returns the cell's acquire-latency percentiles: run.json's numbers, or, if the
// run recorded none, the ones of the merged hlog.
func latencyOf(c *Cell) loadgen.Percentiles {
	p := c.Latency
	if p == (loadgen.Percentiles{}) && c.Hist != nil && c.Hist.TotalCount() > 0 {
		p = loadgen.Percentiles{
			P50:  c.Hist.ValueAtQuantile(50),
			P90:  c.Hist.ValueAtQuantile(90),
			P99:  c.Hist.ValueAtQuantile(99),
			P999: c.Hist.ValueAtQuantile(99.9),
			Max:  c.Hist.Max(),
		}
	}
	return p
}

// groupTable is the side-by-side table of one scenario cell group. Skipped cells are left
// out (they are listed under the table); failed cells stay in, loudly.
func groupTable(g Group, withRepeat bool) table {
	t := table{Header: groupHeader, Align: []string{"l"}}
	for range len(groupHeader) - 1 {
		t.Align = append(t.Align, "r")
	}
	for _, c := range g.Cells {
		if c.Skipped != "" {
			continue
		}
		if c.Failed != "" {
			row := []string{c.label(withRepeat), "FAILED: " + shorten(oneLine(c.Failed), maxReasonInTable)}
			for len(row) < len(groupHeader) {
				row = append(row, "")
			}
			t.Rows = append(t.Rows, tableRow{Cells: row, Alert: true, Strong: map[int]bool{1: true}, Span: true})
			continue
		}
		p := latencyOf(c)
		viol := fmt.Sprintf("%d", c.Violations)
		alert := false
		if c.Violations > 0 {
			if nonLocks[c.Backend] {
				viol += " (not a lock)"
			} else {
				alert = true
			}
		}
		row := []string{
			c.label(withRepeat), fmtOps(c.OpsPerSec),
			fmtLatency(p.P50), fmtLatency(p.P90), fmtLatency(p.P99), fmtLatency(p.P999), fmtLatency(p.Max),
			fmt.Sprintf("%.3f", c.Jain), viol, fmt.Sprintf("%d", c.Errors),
		}
		for _, refName := range []string{BaselineBackend, FloorBackend} {
			ref := reference(g, c, refName)
			if ref == nil {
				row = append(row, "—", "—")
				continue
			}
			row = append(row,
				fmtRatio(c.OpsPerSec, ref.OpsPerSec),
				fmtRatio(float64(p.P99), float64(latencyOf(ref).P99)))
		}
		tr := tableRow{Cells: row, Alert: alert}
		if alert {
			tr.Strong = map[int]bool{8: true}
		}
		t.Rows = append(t.Rows, tr)
	}
	return t
}

// problem is something the reader must not miss, listed at the top of every report.
type problem struct {
	What string // "FAILED", "VIOLATIONS", "HLOG"
	Cell string
	Why  string
}

func cellTitle(c *Cell, withRepeat bool) string {
	return fmt.Sprintf("%s @ %s", c.label(withRepeat), keyOf(c))
}

func (d *Data) problems() []problem {
	var ps []problem
	rep := d.multiRepeat()
	for _, g := range d.Groups() {
		for _, c := range g.Cells {
			switch {
			case c.Failed != "":
				ps = append(ps, problem{"FAILED", cellTitle(c, rep), oneLine(c.Failed)})
			case c.Skipped == "" && c.Violations > 0 && !nonLocks[c.Backend]:
				ps = append(ps, problem{"VIOLATIONS", cellTitle(c, rep),
					fmt.Sprintf("%d mutual-exclusion violations", c.Violations)})
			}
			if c.HlogErr != nil {
				ps = append(ps, problem{"HLOG", cellTitle(c, rep), oneLine(c.HlogErr.Error())})
			}
		}
	}
	return ps
}

// skip is one skipped backend with its reason and how many cells it skipped.
type skip struct {
	Backend, Reason string
	Cells           int
}

func (d *Data) skips() []skip {
	var out []skip
	for _, c := range d.Cells {
		if c.Skipped == "" {
			continue
		}
		i := slices.IndexFunc(out, func(s skip) bool { return s.Backend == c.Backend && s.Reason == c.Skipped })
		if i < 0 {
			out = append(out, skip{Backend: c.Backend, Reason: oneLine(c.Skipped)})
			i = len(out) - 1
		}
		out[i].Cells++
	}
	rank := d.backendRank()
	slices.SortStableFunc(out, func(a, b skip) int {
		if rank[a.Backend] != rank[b.Backend] {
			return rank[a.Backend] - rank[b.Backend]
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}

// skippedIn lists "backend (reason)" for the skipped cells of one group.
func skippedIn(g Group) []string {
	var out []string
	for _, c := range g.Cells {
		if c.Skipped != "" {
			s := fmt.Sprintf("%s (%s)", c.Backend, oneLine(c.Skipped))
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// uncorrectedNote lists open-loop uncorrected p99s, so coordinated omission is visible.
func uncorrectedNote(g Group, withRepeat bool) string {
	var parts []string
	for _, c := range g.Cells {
		if c.Ran() && c.LatencyUncorrected != nil {
			parts = append(parts, fmt.Sprintf("%s %s", c.label(withRepeat), fmtLatency(c.LatencyUncorrected.P99)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Open loop: latency is measured from each request's intended start. p99 from the actual send " +
		"(uncorrected, hides queueing): " + strings.Join(parts, ", ") + "."
}

// machineRows and versionRows are the environment tables, sorted for determinism.
func (d *Data) machineRows() [][2]string {
	m := d.Run.Machine
	return [][2]string{
		{"hostname", orDash(m.Hostname)},
		{"os/arch", m.OS + "/" + m.Arch},
		{"kernel", orDash(m.Kernel)},
		{"cpu", fmt.Sprintf("%d × %s", m.CPUs, orDash(m.CPUModel))},
		{"memory", fmt.Sprintf("%.1f GiB", float64(m.MemBytes)/(1<<30))},
	}
}

func (d *Data) versionRows() [][2]string {
	keys := make([]string, 0, len(d.Run.Versions))
	for k := range d.Run.Versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rows := make([][2]string, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, [2]string{k, orDash(d.Run.Versions[k])})
	}
	return rows
}

// Reproduce returns the shell commands that re-run this measurement and re-render its
// report: the commit, then the run's effective scenario (flags already folded in) written out
// as a scenario file, so the commands do not depend on which flags `wwly bench` has.
func (d *Data) Reproduce() string {
	const reproScenario = "/tmp/wwly-scenario.yaml"
	var b strings.Builder
	if d.Run.Commit != "" {
		fmt.Fprintf(&b, "git checkout %s\n", d.Run.Commit)
	}
	b.WriteString("make build\n")
	var y bytes.Buffer
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(d.Run.Config); err != nil {
		// Not reachable for a Scenario; say so rather than print a wrong command.
		fmt.Fprintf(&b, "# cannot write the scenario: %v\n", err)
		return b.String()
	}
	b.WriteString("cat > " + reproScenario + " <<'EOF'\n")
	b.Write(y.Bytes())
	b.WriteString("EOF\n")
	b.WriteString("./bin/wwly bench --scenario " + reproScenario + "\n")
	b.WriteString("./bin/wwly report results/latest\n")
	return b.String()
}

// hgrmFiles lists the .hgrm written for each cell that has a histogram, in group order.
func (d *Data) hgrmFiles() [][2]string {
	var out [][2]string
	rep := d.multiRepeat()
	for _, g := range d.Groups() {
		for _, c := range g.Cells {
			if c.Hist != nil && c.Hlog != "" {
				out = append(out, [2]string{cellTitle(c, rep), filepath.ToSlash(hgrmPath(c.Hlog))})
			}
		}
	}
	return out
}

// shorten cuts s to at most n runes, ending with "… (see PROBLEMS)" when it cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "… (see PROBLEMS)"
}

// oneLine keeps free text (error messages) on one line, so it cannot break a table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
