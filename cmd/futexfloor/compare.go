package main

import (
	"fmt"
	"io"
	"time"

	"github.com/wwly/wwly/runfile"
)

// goalRatio is issue 7's bar: the harness's futex-fifo cell reaches this fraction of the floor.
const goalRatio = 0.8

// compare prints, for each W measured here, the run's futex-fifo cell on one lock as a fraction
// of the floor. It reports, it does not judge: on a shared box the ratio moves with the load.
func compare(out io.Writer, path string, floor []result) error {
	r, err := runfile.Read(path)
	if err != nil {
		return fmt.Errorf("futexfloor: -against: %w", err)
	}
	for _, f := range floor {
		c := findCell(r, f.workers)
		switch {
		case c == nil:
			fmt.Fprintf(out, "yardstick W=%d: no futex-fifo L=1 cell in %s\n", f.workers, path)
		case !c.IsResult():
			fmt.Fprintf(out, "yardstick W=%d: the harness's cell is not a result: %s\n", f.workers, c.Status())
		default:
			ratio := c.OpsPerSec / f.opsPerSec
			verdict := "meets"
			if ratio < goalRatio {
				verdict = "below"
			}
			fmt.Fprintf(out, "yardstick W=%d: wwly bench futex-fifo %s ops/s p99 %v = %.2f× the floor's ops/s (%s the %.1f× goal), p99 %.2f× the floor's\n",
				f.workers, rate(c.OpsPerSec), time.Duration(c.Latency.P99).Round(time.Microsecond), ratio, verdict, goalRatio,
				float64(c.Latency.P99)/float64(max(f.p99, 1)))
		}
	}
	return nil
}

func findCell(r *runfile.Run, w int) *runfile.Cell {
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Backend == "futex-fifo" && c.Workers == w && c.Locks == 1 {
			return c
		}
	}
	return nil
}
