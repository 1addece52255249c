package gate

import "github.com/wwly/wwly/runfile"

// RunSchema is the run.json schema version this build writes (runfile.Version); the gate reads
// every version runfile reads, so it can judge runs written by older builds.
const RunSchema = runfile.Version

type (
	// Cell is one run.json cell as the gate and tune judge it.
	Cell = runfile.Cell
	// Percentiles of acquire latency in nanoseconds.
	Percentiles = runfile.Percentiles
)
