package loadgen

import "github.com/wwly/wwly/runfile"

// The run file's types live in package runfile, which owns the schema; these names keep the
// harness's code and its callers reading naturally.

// SchemaVersion is the version of run.json this build writes.
const SchemaVersion = runfile.Version

type (
	// Scenario is what one `wwly bench` run measures (runfile.Config); read from
	// bench/scenarios/*.yaml or the embedded copies, and overridden by flags.
	Scenario = runfile.Config
	// Duration is a time.Duration written as "250ms" in YAML and JSON.
	Duration = runfile.Duration
	// Run is run.json.
	Run = runfile.Run
	// Machine describes where the run happened.
	Machine = runfile.Machine
	// Percentiles of a latency histogram, in nanoseconds.
	Percentiles = runfile.Percentiles
	// Cell is one measured cell of a run.
	Cell = runfile.Cell
	// ViolationKinds breaks a cell's Violations down by the check that caught them.
	ViolationKinds = runfile.ViolationKinds
)
