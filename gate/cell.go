package gate

// RunSchema is the run.json schema version the gate reads (loadgen.SchemaVersion when written).
const RunSchema = 1

// Cell is the gate's read-only view of one run.json cell (loadgen.Cell): only the fields the
// gate and tune judge. It is declared here rather than imported so that the gate depends on the
// file format, not on the harness's Go packages: it must read runs written by other builds, and
// it must keep building while the harness changes. cmd/wwly's tests check that a loadgen.Cell
// round-trips into it.
type Cell struct {
	Backend    string   `json:"backend"`
	Workers    int      `json:"workers"`
	Locks      int      `json:"locks"`
	HoldNs     int64    `json:"hold_ns"`
	Mode       string   `json:"mode"`
	Rate       float64  `json:"rate,omitempty"`
	Repeat     int      `json:"repeat"`
	ServerArgs []string `json:"server_args,omitempty"`

	Ops       int64       `json:"ops"`
	OpsPerSec float64     `json:"ops_per_sec"`
	Latency   Percentiles `json:"latency_ns"`

	Violations int64  `json:"violations"`
	Errors     int64  `json:"errors"`
	Skipped    string `json:"skipped"`
	Failed     string `json:"failed,omitempty"`
}

// Percentiles of acquire latency in nanoseconds (loadgen.Percentiles).
type Percentiles struct {
	P50  int64 `json:"p50"`
	P90  int64 `json:"p90"`
	P99  int64 `json:"p99"`
	P999 int64 `json:"p999"`
	Max  int64 `json:"max"`
}
