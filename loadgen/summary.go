package loadgen

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wwly/wwly/units"
)

// WriteSummary prints the run's table: one row per cell. A cell that is not a result shows no
// numbers, only its status and reason; percentiles and Jain show only for a conclusive cell.
func WriteSummary(w io.Writer, run *Run) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tW\tL\tops/s\tp50\tp99\tp999\tmax\tjain\tviolations\terrors\tnote\t")
	for _, c := range run.Cells {
		var note string
		switch {
		case c.Skipped != "":
			note = "skipped: " + c.Skipped
		case c.Failed != "":
			note = "FAILED: " + firstLine(c.Failed)
		case c.Insufficient != "":
			note = c.Insufficient
		case !c.Conclusive:
			note = fmt.Sprintf("p99/jain n/a: %d workers below %d ops", c.BelowMin(), c.MinOpsPerWorker)
		}
		if len(note) > 90 {
			note = note[:87] + "..."
		}
		if !c.IsResult() {
			fmt.Fprintf(tw, "%s\t%d\t%d\t-\t-\t-\t-\t-\t-\t%d\t%d\t%s\t\n", c.Backend, c.Workers, c.Locks,
				c.Violations, c.Errors, note)
			continue
		}
		p50, p99, p999, mx, jain := "-", "-", "-", "-", "-"
		if c.Conclusive {
			p50, p99, p999, mx = FormatNs(c.Latency.P50), FormatNs(c.Latency.P99), FormatNs(c.Latency.P999), FormatNs(c.Latency.Max)
			jain = fmt.Sprintf("%.3f", c.Jain)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", c.Backend, c.Workers, c.Locks,
			FormatCount(c.OpsPerSec), p50, p99, p999, mx, jain, c.Violations, c.Errors, note)
	}
	_ = tw.Flush()
}

// FormatNs renders nanoseconds as every wwly output does ("<1µs", "12.3µs", "4.56ms", "1.2s");
// see units.Latency.
func FormatNs(ns int64) string { return units.Latency(ns) }

// FormatBytes renders a byte count in MiB or KiB.
func FormatBytes(b int64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%dKiB", b>>10)
	}
}
