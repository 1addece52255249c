package runfile

import (
	"errors"
	"fmt"
	"time"
)

// ErrScenario marks a scenario (a run's Config) that does not make sense.
var ErrScenario = errors.New("runfile: scenario")

// DefaultMinOpsPerWorker is the fewest measured ops per worker for a cell to count as a result
// when the scenario does not say: below it a throughput is a handful of events and a Jain index
// or a p99 over them means nothing.
const DefaultMinOpsPerWorker = 20

// Config is what one `wwly bench` run measures: the cross product of its lists, Repeat times.
// It is read from a scenario YAML file, overridden by flags, and stored in run.json as "config".
type Config struct {
	Name     string   `yaml:"name" json:"name"`
	Backends []string `yaml:"backends" json:"backends"`
	Workers  []int    `yaml:"workers" json:"workers"`
	Locks    []int    `yaml:"locks" json:"locks"`
	Hold     Duration `yaml:"hold" json:"hold"`
	// Duration is each cell's fixed measured window; with OpsPerWorker it is the window's
	// minimum (0 for none), so a fast cell still measures long enough to mean something.
	Duration Duration `yaml:"duration" json:"duration"`
	Warmup   Duration `yaml:"warmup" json:"warmup"`
	// OpsPerWorker, when > 0, sizes each cell's window by work instead of time: the window ends
	// once the cell's workers have completed OpsPerWorker × W ops between them (and Duration has
	// passed), or at MaxDuration, whichever comes first. A fixed window gives 1000 workers a couple of ops each; this gives
	// every scale the same number of events per worker.
	OpsPerWorker int `yaml:"ops_per_worker" json:"ops_per_worker,omitempty"`
	// MaxDuration caps an OpsPerWorker window (required with it).
	MaxDuration Duration `yaml:"max_duration" json:"max_duration,omitempty"`
	// MinOpsPerWorker is the fewest measured ops per worker for a cell to be a result; 0 means
	// DefaultMinOpsPerWorker. See Cell.Insufficient and Cell.Conclusive.
	MinOpsPerWorker int `yaml:"min_ops_per_worker" json:"min_ops_per_worker,omitempty"`
	// Rate is the open-loop target ops/s per worker; 0 means closed loop.
	Rate   float64 `yaml:"rate" json:"rate"`
	Repeat int     `yaml:"repeat" json:"repeat"`
	// Seed seeds every random choice (lock names); 0 means pick one and print it.
	Seed int64 `yaml:"seed" json:"seed,omitempty"`
	// ServerArgs are extra flags for the wwly server (tunables), e.g. ["--flush-batch=64"].
	ServerArgs []string `yaml:"server_args" json:"server_args,omitempty"`

	// Workload is what each cell's workers do (see workload.go): "mutex" (the default, also
	// ""), "fanout", "rw" or "semaphore".
	Workload string `yaml:"workload,omitempty" json:"workload,omitempty"`
	// ReadFraction is the share of rw ops that take the lock shared (0.9 when zero).
	ReadFraction float64 `yaml:"read_fraction,omitempty" json:"read_fraction,omitempty"`
	// Permits is the semaphore's value (4 when zero).
	Permits int `yaml:"permits,omitempty" json:"permits,omitempty"`
	// Rounds is the number of measured set/wake rounds of a fanout cell (DefaultRounds when
	// zero); Duration caps them.
	Rounds int `yaml:"rounds,omitempty" json:"rounds,omitempty"`
	// Parts, when present, are further scenarios run after this one (itself only when it lists
	// backends), each with its own workload, backends and workers; a part's zero fields take this
	// one's values (see Stages).
	Parts []Config `yaml:"parts,omitempty" json:"parts,omitempty"`
}

// MinOps is the effective minimum of measured ops per worker.
func (s *Config) MinOps() int {
	if s.MinOpsPerWorker > 0 {
		return s.MinOpsPerWorker
	}
	return DefaultMinOpsPerWorker
}

// Window is the longest a cell's measured window can last: Duration, or MaxDuration when the
// window is sized by ops.
func (s *Config) Window() time.Duration {
	if s.OpsPerWorker > 0 {
		return s.MaxDuration.Std()
	}
	return s.Duration.Std()
}

// Validate reports the first problem with s, precisely.
func (s *Config) Validate() error {
	if len(s.Parts) > 0 {
		return s.validateStages()
	}
	if err := s.validateWorkload(); err != nil {
		return err
	}
	switch {
	case len(s.Backends) == 0:
		return fmt.Errorf("%w: no backends", ErrScenario)
	case len(s.Workers) == 0:
		return fmt.Errorf("%w: no worker counts", ErrScenario)
	case len(s.Locks) == 0:
		return fmt.Errorf("%w: no lock counts", ErrScenario)
	case s.OpsPerWorker < 0 || s.MinOpsPerWorker < 0:
		return fmt.Errorf("%w: ops_per_worker and min_ops_per_worker must be >= 0", ErrScenario)
	case s.OpsPerWorker > 0 && s.MaxDuration <= 0:
		return fmt.Errorf("%w: ops_per_worker needs max_duration > 0", ErrScenario)
	case s.OpsPerWorker > 0 && s.Duration > s.MaxDuration:
		return fmt.Errorf("%w: duration %v (the minimum window) above max_duration %v", ErrScenario, s.Duration, s.MaxDuration)
	case s.OpsPerWorker == 0 && s.Duration <= 0:
		return fmt.Errorf("%w: duration must be > 0", ErrScenario)
	case s.Hold < 0 || s.Warmup < 0 || s.MaxDuration < 0:
		return fmt.Errorf("%w: hold, warmup and max_duration must be >= 0", ErrScenario)
	case s.Rate < 0:
		return fmt.Errorf("%w: rate %v must be >= 0", ErrScenario, s.Rate)
	case s.Repeat < 1:
		return fmt.Errorf("%w: repeat %d must be >= 1", ErrScenario, s.Repeat)
	}
	for _, w := range s.Workers {
		if w < 1 {
			return fmt.Errorf("%w: workers %d must be >= 1", ErrScenario, w)
		}
	}
	for _, l := range s.Locks {
		if l < 1 {
			return fmt.Errorf("%w: locks %d must be >= 1", ErrScenario, l)
		}
	}
	seen := map[string]bool{}
	for _, b := range s.Backends {
		if seen[b] {
			return fmt.Errorf("%w: backend %q listed twice", ErrScenario, b)
		}
		seen[b] = true
	}
	return nil
}

// Cells is the number of cells the scenario measures (every stage's).
func (s *Config) Cells() int {
	n := 0
	for _, st := range s.Stages() {
		n += len(st.Backends) * len(st.Workers) * len(st.Locks) * max(st.Repeat, 1)
	}
	return n
}

// Estimate is a rough wall time of the run: warm-up plus window per cell (an ops-sized window
// counts as its cap, so this is then an upper bound of the windows).
func (s *Config) Estimate() time.Duration {
	var d time.Duration
	for _, st := range s.Stages() {
		d += time.Duration(st.Cells()) * (st.Warmup.Std() + st.Window())
	}
	return d
}
