package runfile

import (
	"fmt"
	"time"
)

// IsResult reports whether the cell's throughput is a result: it ran, did not fail, and made
// enough ops.
func (c *Cell) IsResult() bool {
	return c.Skipped == "" && c.Failed == "" && c.Insufficient == ""
}

// ShowTail reports whether the cell's Jain index and latency percentiles may be shown: it is a
// result and every worker made the minimum of ops.
func (c *Cell) ShowTail() bool { return c.IsResult() && c.Conclusive }

// Status is a short word for a table: "ok", "skipped", "failed" or "insufficient ops".
func (c *Cell) Status() string {
	switch {
	case c.Skipped != "":
		return "skipped"
	case c.Failed != "":
		return "failed"
	case c.Insufficient != "":
		return "insufficient ops"
	}
	return "ok"
}

// Judge decides, for a cell that ran and did not fail, whether it is a result (Insufficient) and
// whether its tail statistics are meaningful (Conclusive), against minOps measured ops per worker
// (DefaultMinOpsPerWorker when minOps <= 0). It reads Ops, Workers, DurationNs, Errors and
// PerWorkerOps, and sets MinOpsPerWorker, Insufficient and Conclusive. Skipped and failed cells
// are left as they are.
func (c *Cell) Judge(minOps int) {
	if minOps <= 0 {
		minOps = DefaultMinOpsPerWorker
	}
	c.MinOpsPerWorker = minOps
	c.Insufficient, c.Conclusive = "", false
	if c.Skipped != "" || c.Failed != "" {
		return
	}
	window := time.Duration(c.DurationNs).Round(time.Millisecond)
	w := max(c.Workers, 1)
	switch {
	case c.Ops == 0:
		c.Insufficient = fmt.Sprintf("insufficient ops: no worker completed an op in the %v window (%d errors)",
			window, c.Errors)
		return
	case c.Ops < int64(minOps)*int64(w):
		c.Insufficient = fmt.Sprintf("insufficient ops: %d ops over %d workers (%.1f per worker) in %v, below the minimum of %d per worker",
			c.Ops, w, float64(c.Ops)/float64(w), window, minOps)
		return
	}
	if len(c.PerWorkerOps) != c.Workers {
		return
	}
	for _, n := range c.PerWorkerOps {
		if n < int64(minOps) {
			return
		}
	}
	c.Conclusive = true
}

// BelowMin counts the workers that made fewer than the cell's minimum of ops (for a note next to
// a hidden Jain or p99).
func (c *Cell) BelowMin() int {
	n := 0
	for _, ops := range c.PerWorkerOps {
		if ops < int64(max(c.MinOpsPerWorker, 1)) {
			n++
		}
	}
	return n
}
