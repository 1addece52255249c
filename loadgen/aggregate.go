package loadgen

// Aggregation: the workers' final reports merged into the cell.

import (
	"fmt"
	"time"
)

// finish merges the finals, checks exclusion and writes the interval log.
func (c *coordinator) finish(w *Witness, measureAt, end time.Time) error {
	cell := c.cell
	var acqSum, holdRelSum, cycSum, uncSum CountsSum
	var totalOps int64
	var firstStart, lastStart int64
	cell.PerWorkerOps = make([]int64, len(c.procs))
	for i, p := range c.procs {
		f := p.final
		for _, pr := range []struct {
			dst *CountsSum
			src Counts
		}{{&acqSum, f.Acquire}, {&holdRelSum, f.HoldRelease}, {&cycSum, f.Cycle}, {&uncSum, f.AcquireUncorrected}} {
			if err := pr.dst.Add(pr.src); err != nil {
				return fmt.Errorf("%w: worker %d: %w", ErrCell, i, err)
			}
		}
		cell.PerWorkerOps[i] = f.Ops
		if firstStart == 0 || f.StartedUnixNs < firstStart {
			firstStart = f.StartedUnixNs
		}
		lastStart = max(lastStart, f.StartedUnixNs)
		cell.Ops += f.Ops
		totalOps += f.TotalOps
		cell.Errors += f.Errors
		cell.MaxWaitNs = max(cell.MaxWaitNs, f.MaxWaitNs)
		if f.Ops == 0 {
			cell.StarvedWorkers++
		}
		if cell.FirstError == "" && f.FirstError != "" {
			cell.FirstError = fmt.Sprintf("worker %d: %s", i, f.FirstError)
		}
	}
	cell.TotalOps = totalOps
	cell.StartSkewNs = lastStart - firstStart
	if early := c.startWall.UnixNano() - firstStart; early > int64(time.Millisecond) {
		return fmt.Errorf("%w: barrier broken: a worker started %v before the start instant", ErrCell, time.Duration(early))
	}
	cell.OpsPerSec = float64(cell.Ops) / time.Duration(cell.DurationNs).Seconds()
	cell.Latency = PercentilesOf(acqSum.Histogram())
	if c.s.Rate > 0 {
		p := PercentilesOf(uncSum.Histogram())
		cell.LatencyUncorrected = &p
	}
	cell.HoldRelease = PercentilesOf(holdRelSum.Histogram())
	cell.Cycle = PercentilesOf(cycSum.Histogram())
	cell.Jain = Jain(cell.PerWorkerOps)

	r := w.Report()
	cell.ViolationKinds = &ViolationKinds{Witness: r.Witness, Token: r.Token, LostUpdates: r.LostUpdates(totalOps)}
	cell.Violations = r.Violations(totalOps)

	if c.o.Hlog != nil {
		if err := c.writeHlog(measureAt, end); err != nil {
			return fmt.Errorf("%w: hlog: %w", ErrCell, err)
		}
	}
	if cell.Violations > 0 && c.o.Backend.Exclusive() {
		return fmt.Errorf("%w: MUTUAL EXCLUSION VIOLATED: %d violations (witness %d, token %d, lost updates %d of %d ops)",
			ErrCell, cell.Violations, r.Witness, r.Token, cell.ViolationKinds.LostUpdates, totalOps)
	}
	// Every op failing is a broken run, not a slow backend (a slow one shows 0 ops and 0 errors).
	if cell.Ops == 0 && cell.Errors > 0 {
		return fmt.Errorf("%w: no progress: 0 ops in the measured window, %d errors; first: %s",
			ErrCell, cell.Errors, cell.FirstError)
	}
	return nil
}
