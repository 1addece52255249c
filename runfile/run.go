package runfile

import "time"

// Version is the run.json schema this build writes. Read also accepts MinVersion..Version.
const (
	Version    = 2
	MinVersion = 1
)

// Name is the run file's name inside a run directory.
const Name = "run.json"

// Run is run.json: everything a report needs, with no need to run again.
type Run struct {
	Schema   int               `json:"schema"`
	ID       string            `json:"id"`
	Started  time.Time         `json:"started"`
	Machine  Machine           `json:"machine"`
	Versions map[string]string `json:"versions"` // go, wwly, redis-server, etcd, library versions
	Commit   string            `json:"commit"`
	Config   Config            `json:"config"`
	Cells    []Cell            `json:"cells"`
}

// Machine describes where the run happened.
type Machine struct {
	Hostname string `json:"hostname"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemBytes int64  `json:"mem_bytes"`
	Kernel   string `json:"kernel"`
}

// Percentiles of a latency histogram, in nanoseconds.
type Percentiles struct {
	P50  int64 `json:"p50"`
	P90  int64 `json:"p90"`
	P99  int64 `json:"p99"`
	P999 int64 `json:"p999"`
	Max  int64 `json:"max"`
}

// Cell is one measured combination of backend × workers × locks × hold × mode × repeat.
//
// A cell is a result (IsResult) only when it ran (not Skipped), did not fail (Failed) and made
// enough ops (Insufficient is empty); readers must not print a number for any other cell. Its
// Jain index and latency percentiles are meaningful only when, in addition, every worker made
// MinOpsPerWorker ops (Conclusive; ShowTail).
type Cell struct {
	Backend string  `json:"backend"`
	Workers int     `json:"workers"`
	Locks   int     `json:"locks"`
	HoldNs  int64   `json:"hold_ns"`
	Mode    string  `json:"mode"` // "closed" or "open"
	Rate    float64 `json:"rate,omitempty"`
	Repeat  int     `json:"repeat"`
	// ServerArgs are the wwly server tunables this cell ran with (wwly backend only).
	ServerArgs []string `json:"server_args,omitempty"`
	// Workload is what the workers did ("" for mutex, as before it existed); ReadFraction and
	// Permits are the rw and semaphore parameters. Fanout holds a fanout cell's wake figures (its
	// Latency is the same wake distribution, so the common tables read it too).
	Workload     string  `json:"workload,omitempty"`
	ReadFraction float64 `json:"read_fraction,omitempty"`
	Permits      int     `json:"permits,omitempty"`
	Fanout       *Fanout `json:"fanout,omitempty"`

	DurationNs int64   `json:"duration_ns"` // measured window (as it ended, for an ops-sized one)
	Ops        int64   `json:"ops"`
	OpsPerSec  float64 `json:"ops_per_sec"`
	// Latency is acquire latency; in open loop it is measured from the intended start (corrected).
	Latency Percentiles `json:"latency_ns"`
	// LatencyUncorrected is open loop only: from the actual send.
	LatencyUncorrected *Percentiles `json:"latency_uncorrected_ns,omitempty"`
	HoldRelease        Percentiles  `json:"hold_release_ns"`
	Cycle              Percentiles  `json:"cycle_ns"`

	Jain           float64 `json:"jain"` // Jain's fairness index over per-worker ops
	MaxWaitNs      int64   `json:"max_wait_ns"`
	StarvedWorkers int     `json:"starved_workers"` // workers with zero ops in the window
	PerWorkerOps   []int64 `json:"per_worker_ops,omitempty"`

	// MinOpsPerWorker is the minimum this cell was judged against (version 2; 20 for version 1).
	MinOpsPerWorker int `json:"min_ops_per_worker,omitempty"`
	// Insufficient, when non-empty, says why a cell that ran is not a result: no ops at all, or
	// fewer than MinOpsPerWorker per worker on average. Its numbers must not be shown.
	Insufficient string `json:"insufficient,omitempty"`
	// Conclusive: every worker made at least MinOpsPerWorker measured ops, so the Jain index and
	// the latency percentiles describe every worker. Readers show Jain and p99 only when it is
	// true (see ShowTail).
	Conclusive bool `json:"conclusive,omitempty"`

	Violations int64 `json:"violations"`
	// ViolationKinds says which checks the violations came from.
	ViolationKinds *ViolationKinds `json:"violation_kinds,omitempty"`
	// TotalOps counts every critical section entered, warm-up included (the balance check's sum).
	TotalOps int64 `json:"total_ops,omitempty"`
	// Seed is the cell's random seed (lock-name choice), printed so a run can be repeated.
	Seed       int64  `json:"seed"`
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	Skipped    string `json:"skipped"`          // non-empty: why this backend did not run
	Failed     string `json:"failed,omitempty"` // non-empty: why the cell failed (crash, hang, violation)

	WorkerRSSBytes int64 `json:"worker_rss_bytes"` // mean per worker
	WorkerPSSBytes int64 `json:"worker_pss_bytes"` // mean per worker
	ServerRSSBytes int64 `json:"server_rss_bytes"`
	// ConnectRetries counts Connect calls workers had to repeat before they were ready.
	ConnectRetries int64 `json:"connect_retries,omitempty"`
	SpawnNs        int64 `json:"spawn_ns"`
	// WorkersReused: this cell ran on the previous cell's worker processes (SpawnNs is then the
	// time to hand them the new config).
	WorkersReused bool  `json:"workers_reused,omitempty"`
	BarrierNs     int64 `json:"barrier_ns"`
	// StartSkewNs is the spread of the workers' actual start instants (last minus first).
	StartSkewNs int64 `json:"start_skew_ns,omitempty"`

	// Hlog is the cell's HdrHistogram interval log, relative to the run directory.
	Hlog string `json:"hlog"`
}

// ViolationKinds breaks a cell's Violations down by the check that caught them.
type ViolationKinds struct {
	Witness     int64 `json:"witness"`      // a holder found another inside
	Token       int64 `json:"token"`        // a fencing token did not rise
	LostUpdates int64 `json:"lost_updates"` // balance short of the critical sections entered
}
