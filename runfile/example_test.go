package runfile_test

import (
	"fmt"

	"github.com/wwly/wwly/runfile"
)

// A reader prints a number only for a result, and Jain or p99 only when every worker made the
// minimum of ops.
func ExampleCell_Judge() {
	cells := []runfile.Cell{
		{Backend: "wwly", Workers: 2, Ops: 100, OpsPerSec: 50, Jain: 1, PerWorkerOps: []int64{50, 50}},
		{Backend: "wwly", Workers: 2, Ops: 100, OpsPerSec: 50, Jain: 0.6, PerWorkerOps: []int64{95, 5}},
		{Backend: "redsync", Workers: 1000, DurationNs: 2e9},
	}
	for _, c := range cells {
		c.Judge(runfile.DefaultMinOpsPerWorker)
		switch {
		case c.ShowTail():
			fmt.Printf("%s W=%d: %.0f ops/s, jain %.2f\n", c.Backend, c.Workers, c.OpsPerSec, c.Jain)
		case c.IsResult():
			fmt.Printf("%s W=%d: %.0f ops/s, jain n/a (%d workers below %d ops)\n", c.Backend, c.Workers, c.OpsPerSec, c.BelowMin(), c.MinOpsPerWorker)
		default:
			fmt.Printf("%s W=%d: %s\n", c.Backend, c.Workers, c.Insufficient)
		}
	}
	// Output:
	// wwly W=2: 50 ops/s, jain 1.00
	// wwly W=2: 50 ops/s, jain n/a (1 workers below 20 ops)
	// redsync W=1000: insufficient ops: no worker completed an op in the 2s window (0 errors)
}
