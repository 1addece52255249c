package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wwly/wwly/bench"
)

// The coordinator and its workers talk in JSON lines. Down (worker stdin): one WorkerConfig
// line; closing stdin tells the worker to stop. The start itself goes through the checker file's
// futex barrier (Witness.Release), not through stdin. Up (worker stdout):
// one "ready" message, then nothing during the measured window (a message there would be the
// harness measuring itself), then one "final" message carrying the per-interval latencies too
// (or one "error"), then the worker exits.

// ErrProtocol marks a line on the coordinator–worker channel that does not parse or validate.
var ErrProtocol = errors.New("loadgen: protocol")

// Message kinds sent by workers.
const (
	MsgReady = "ready"
	MsgFinal = "final"
	MsgError = "error"
)

// maxLineBytes bounds one protocol line: a final message carries four encoded histograms of a
// few KB each and the window's intervals (a few bucket pairs per interval and worker; a minute of
// 100 ms intervals at W=1 is well under 1 MiB). 16 MiB leaves room without letting a broken worker
// exhaust memory.
const maxLineBytes = 16 << 20

// WorkerConfig is everything a worker needs, sent as the first line of its stdin.
type WorkerConfig struct {
	Index   int       `json:"index"`
	Backend string    `json:"backend"`
	Env     bench.Env `json:"env"`
	Names   []string  `json:"names"` // lock names; op picks one uniformly at random
	// Timing is the cell's, unchanged; its fields are this line's own in JSON.
	Timing
	Seed   int64  `json:"seed"` // this worker's own seed (derived from the run seed)
	Shm    string `json:"shm"`  // path of the Witness file
	Tokens bool   `json:"tokens"`
	// ConnectTimeout bounds connecting, retries included (default 1 min).
	ConnectTimeout time.Duration `json:"connect_timeout_ns"`
	// Work is the cell's workload (zero: the mutex); see workload.go.
	Work WorkSpec `json:"work,omitzero"`
}

// Timing is a cell's clock settings. The scenario is turned into it once (TimingOf), and it
// travels unchanged through CellSpec to every worker's WorkerConfig, which embed it.
type Timing struct {
	Hold     time.Duration `json:"hold_ns"`
	Warmup   time.Duration `json:"warmup_ns"`
	Duration time.Duration `json:"duration_ns"` // the window, or its cap when sized by ops
	Rate     float64       `json:"rate"`        // open-loop ops/s per worker; 0 = closed loop
	Interval time.Duration `json:"interval_ns"` // progress and hlog interval; 1 s when zero
}

// TimingOf is the timing of every cell of sc, with the given progress/hlog interval.
func TimingOf(sc *Scenario, interval time.Duration) Timing {
	return Timing{Hold: sc.Hold.Std(), Warmup: sc.Warmup.Std(), Duration: sc.Window(), Rate: sc.Rate,
		Interval: interval}
}

// Validate checks a config before the worker acts on it.
func (c *WorkerConfig) Validate() error {
	switch {
	case c.Backend == "":
		return fmt.Errorf("%w: config: no backend", ErrProtocol)
	case len(c.Names) == 0:
		return fmt.Errorf("%w: config: no lock names", ErrProtocol)
	case c.Shm == "":
		return fmt.Errorf("%w: config: no shared-memory path", ErrProtocol)
	case c.Duration <= 0:
		return fmt.Errorf("%w: config: duration %v must be > 0", ErrProtocol, c.Duration)
	case c.Hold < 0 || c.Warmup < 0 || c.Rate < 0 || c.Interval < 0:
		return fmt.Errorf("%w: config: negative hold, warm-up, rate or interval", ErrProtocol)
	}
	return nil
}

// Message is one line a worker writes. Fields beyond Type are set per kind.
type Message struct {
	Type string `json:"type"`

	// ready: how many times Connect had to be retried.
	Retries int `json:"retries,omitempty"`

	// final
	Ops                int64  `json:"ops,omitempty"`       // recorded in the measured window
	TotalOps           int64  `json:"total_ops,omitempty"` // critical sections entered, warm-up included
	Errors             int64  `json:"errors,omitempty"`
	Violations         int64  `json:"violations,omitempty"` // this worker's witness + token failures
	Acquire            Counts `json:"acquire,omitempty"`
	AcquireUncorrected Counts `json:"acquire_uncorrected,omitempty"`
	HoldRelease        Counts `json:"hold_release,omitempty"`
	Cycle              Counts `json:"cycle,omitempty"`
	MaxWaitNs          int64  `json:"max_wait_ns,omitempty"`
	FirstError         string `json:"first_error,omitempty"`
	StartedUnixNs      int64  `json:"started_unix_ns,omitempty"` // when the warm-up really began
	// Intervals are the window's acquire latencies by interval (the cell's hlog), in order.
	Intervals []IntervalCounts `json:"intervals,omitempty"`

	// error
	Err string `json:"err,omitempty"`
}

// DecodeMessage parses and validates one worker line.
func DecodeMessage(line []byte) (Message, error) {
	if len(line) > maxLineBytes {
		return Message{}, fmt.Errorf("%w: line of %d bytes", ErrProtocol, len(line))
	}
	var m Message
	if err := json.Unmarshal(line, &m); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	switch m.Type {
	case MsgReady:
		if m.Retries < 0 {
			return Message{}, fmt.Errorf("%w: ready with %d retries", ErrProtocol, m.Retries)
		}
	case MsgFinal:
		if m.Ops < 0 || m.TotalOps < 0 || m.Errors < 0 || m.Violations < 0 || m.MaxWaitNs < 0 || m.Ops > m.TotalOps {
			return Message{}, fmt.Errorf("%w: final with impossible counts (ops %d, total %d)", ErrProtocol, m.Ops, m.TotalOps)
		}
		if err := validateIntervals(m.Intervals, m.Ops); err != nil {
			return Message{}, err
		}
		for _, c := range []Counts{m.Acquire, m.AcquireUncorrected, m.HoldRelease, m.Cycle} {
			if _, err := c.validate(); err != nil {
				return Message{}, fmt.Errorf("%w: final: %w", ErrProtocol, err)
			}
		}
	case MsgError:
		if m.Err == "" {
			return Message{}, fmt.Errorf("%w: error message without text", ErrProtocol)
		}
	default:
		return Message{}, fmt.Errorf("%w: unknown message type %q", ErrProtocol, m.Type)
	}
	return m, nil
}

// DecodeConfig parses and validates the first stdin line.
func DecodeConfig(line []byte) (WorkerConfig, error) {
	var c WorkerConfig
	if err := json.Unmarshal(line, &c); err != nil {
		return WorkerConfig{}, fmt.Errorf("%w: config: %w", ErrProtocol, err)
	}
	if err := c.Validate(); err != nil {
		return WorkerConfig{}, err
	}
	return c, nil
}

// validateIntervals checks a final's intervals: each sound, K rising, ops adding up to the
// window's.
func validateIntervals(iv []IntervalCounts, ops int64) error {
	var n int64
	for i := range iv {
		if err := iv[i].validate(); err != nil {
			return err
		}
		if i > 0 && iv[i].K <= iv[i-1].K {
			return fmt.Errorf("%w: interval k=%d after k=%d", ErrProtocol, iv[i].K, iv[i-1].K)
		}
		n += iv[i].Ops
	}
	if len(iv) > 0 && n != ops {
		return fmt.Errorf("%w: intervals count %d ops, the final %d", ErrProtocol, n, ops)
	}
	return nil
}
