package loadgen

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wwly/wwly/units"
)

// WriteSummary prints the run's table: one row per cell.
func WriteSummary(w io.Writer, run *Run) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tW\tL\tops/s\tp50\tp99\tp999\tmax\tjain\tviolations\terrors\tskipped\t")
	for _, c := range run.Cells {
		note := c.Skipped
		if c.Failed != "" {
			note = "FAILED: " + firstLine(c.Failed)
		}
		if len(note) > 60 {
			note = note[:57] + "..."
		}
		if c.Skipped != "" || (c.Failed != "" && c.Ops == 0) {
			fmt.Fprintf(tw, "%s\t%d\t%d\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t\n", c.Backend, c.Workers, c.Locks, note)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.3f\t%d\t%d\t%s\t\n", c.Backend, c.Workers, c.Locks,
			FormatCount(c.OpsPerSec), FormatNs(c.Latency.P50), FormatNs(c.Latency.P99), FormatNs(c.Latency.P999),
			FormatNs(c.Latency.Max), c.Jain, c.Violations, c.Errors, note)
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
