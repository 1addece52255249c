package runfile

import (
	"fmt"
	"slices"
)

// Workloads: what a cell's workers do with a backend.
const (
	// WorkloadMutex: every op takes the exclusive lock (the default; "" means it too).
	WorkloadMutex = "mutex"
	// WorkloadFanout: W workers wait on one event, one setter sets it; latency is set → wake.
	WorkloadFanout = "fanout"
	// WorkloadRW: each op takes a reader-writer lock, shared with probability ReadFraction.
	WorkloadRW = "rw"
	// WorkloadSemaphore: each op takes one permit of a semaphore of Permits.
	WorkloadSemaphore = "semaphore"
)

// Workload defaults.
const (
	DefaultReadFraction = 0.9
	DefaultPermits      = 4
	DefaultRounds       = 50
)

// Workloads lists the known workloads.
func Workloads() []string {
	return []string{WorkloadMutex, WorkloadFanout, WorkloadRW, WorkloadSemaphore}
}

// WorkloadOf is the effective workload ("" is mutex).
func WorkloadOf(w string) string {
	if w == "" {
		return WorkloadMutex
	}
	return w
}

// EffReadFraction is ReadFraction or its default.
func (s *Config) EffReadFraction() float64 {
	if s.ReadFraction == 0 {
		return DefaultReadFraction
	}
	return s.ReadFraction
}

// EffPermits is Permits or its default.
func (s *Config) EffPermits() int {
	if s.Permits == 0 {
		return DefaultPermits
	}
	return s.Permits
}

// EffRounds is Rounds or its default.
func (s *Config) EffRounds() int {
	if s.Rounds == 0 {
		return DefaultRounds
	}
	return s.Rounds
}

func (s *Config) validateWorkload() error {
	switch {
	case !slices.Contains(Workloads(), WorkloadOf(s.Workload)):
		return fmt.Errorf("%w: workload %q is not one of %v", ErrScenario, s.Workload, Workloads())
	case s.ReadFraction < 0 || s.ReadFraction > 1:
		return fmt.Errorf("%w: read_fraction %v outside [0, 1]", ErrScenario, s.ReadFraction)
	case s.Permits < 0 || s.Rounds < 0:
		return fmt.Errorf("%w: permits and rounds must be >= 0", ErrScenario)
	case s.ReadFraction != 0 && s.Workload != WorkloadRW:
		return fmt.Errorf("%w: read_fraction is for workload rw, not %q", ErrScenario, WorkloadOf(s.Workload))
	case s.Permits != 0 && s.Workload != WorkloadSemaphore:
		return fmt.Errorf("%w: permits is for workload semaphore, not %q", ErrScenario, WorkloadOf(s.Workload))
	case s.Rounds != 0 && s.Workload != WorkloadFanout:
		return fmt.Errorf("%w: rounds is for workload fanout, not %q", ErrScenario, WorkloadOf(s.Workload))
	case s.Workload == WorkloadFanout && s.Rate > 0:
		return fmt.Errorf("%w: workload fanout has no open-loop rate", ErrScenario)
	case s.Workload == WorkloadFanout && s.OpsPerWorker > 0:
		return fmt.Errorf("%w: workload fanout is sized by rounds, not ops_per_worker", ErrScenario)
	case WorkloadOf(s.Workload) != WorkloadMutex && s.Rate > 0:
		return fmt.Errorf("%w: workload %s runs closed loop only (rate 0)", ErrScenario, s.Workload)
	}
	if WorkloadOf(s.Workload) != WorkloadMutex {
		for _, l := range s.Locks {
			if l != 1 {
				return fmt.Errorf("%w: workload %s uses one name per cell: locks must be [1]", ErrScenario, s.Workload)
			}
		}
	}
	return nil
}

// Stages is what a run measures, in order: s itself when it has no Parts; else s when it lists
// backends, then each part with its zero fields (name, hold, duration, warm-up, repeat, seed,
// locks, server args, minimum ops) taken from s. Parts do not nest.
func (s *Config) Stages() []Config {
	if len(s.Parts) == 0 {
		return []Config{*s}
	}
	var out []Config
	if len(s.Backends) > 0 {
		top := *s
		top.Parts = nil
		out = append(out, top)
	}
	for _, p := range s.Parts {
		if p.Name == "" {
			p.Name = s.Name
		}
		if p.Hold == 0 {
			p.Hold = s.Hold
		}
		if p.Duration == 0 {
			p.Duration = s.Duration
		}
		if p.Warmup == 0 {
			p.Warmup = s.Warmup
		}
		if p.Repeat == 0 {
			p.Repeat = s.Repeat
		}
		if p.Seed == 0 {
			p.Seed = s.Seed
		}
		if len(p.Locks) == 0 {
			p.Locks = s.Locks
		}
		if len(p.ServerArgs) == 0 {
			p.ServerArgs = s.ServerArgs
		}
		if p.MinOpsPerWorker == 0 {
			p.MinOpsPerWorker = s.MinOpsPerWorker
		}
		out = append(out, p)
	}
	return out
}

func (s *Config) validateStages() error {
	for i, p := range s.Parts {
		if len(p.Parts) > 0 {
			return fmt.Errorf("%w: part %d has parts of its own (they do not nest)", ErrScenario, i)
		}
	}
	stages := s.Stages()
	for i := range stages {
		if err := stages[i].Validate(); err != nil {
			return fmt.Errorf("stage %d (%s): %w", i, WorkloadOf(stages[i].Workload), err)
		}
	}
	return nil
}

// Fanout is a fanout cell's result: Rounds sets of one event, each waking every waiter.
type Fanout struct {
	Rounds int `json:"rounds"`
	// Wake is the distribution over every waiter of every measured round: its wake instant minus
	// the set instant, both on CLOCK_MONOTONIC (one host, one clock).
	Wake Percentiles `json:"wake_ns"`
	// LastWake is the distribution over rounds of the last waiter's wake minus the set.
	LastWake Percentiles `json:"last_wake_ns"`
	// LastWakeNs is each measured round's last wake, in round order.
	LastWakeNs []int64 `json:"last_wake_per_round_ns,omitempty"`
	// SettleNs is how long the setter waited after every waiter said it was about to wait,
	// so each wait had reached its backend before the set.
	SettleNs int64 `json:"settle_ns"`
}
