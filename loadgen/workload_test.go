package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/bench"
)

// noLockBackend serves rw and semaphore with no lock at all: the control that shows their
// checkers can fail. It says it is exclusive, so a caught overlap fails the cell.
type noLockBackend struct{}

func (noLockBackend) Name() string        { return "tnolock" }
func (noLockBackend) Exclusive() bool     { return true }
func (noLockBackend) Tokens() bool        { return false }
func (noLockBackend) Workloads() []string { return []string{WorkloadRW, WorkloadSemaphore} }
func (noLockBackend) Start(context.Context, bench.StartOptions) (bench.Instance, error) {
	return noInstance{}, nil
}
func (noLockBackend) Connect(context.Context, bench.Env) (bench.Client, error) { return noLock{}, nil }

type noInstance struct{}

func (noInstance) Env() bench.Env { return bench.Env{} }
func (noInstance) ServerPID() int { return 0 }
func (noInstance) Stop() error    { return nil }

type noLock struct{}

func (noLock) Locker(string) (bench.Locker, error)            { return nil, bench.ErrUnsupported }
func (noLock) Close() error                                   { return nil }
func (noLock) RWLock(string) (bench.RWLock, error)            { return noLock{}, nil }
func (noLock) Semaphore(string, int) (bench.Semaphore, error) { return noLock{}, nil }
func (noLock) Lock(context.Context) (uint64, error)           { return 0, nil }
func (noLock) Unlock(context.Context) error                   { return nil }
func (noLock) RLock(context.Context) error                    { return nil }
func (noLock) RUnlock(context.Context) error                  { return nil }
func (noLock) Acquire(context.Context) error                  { return nil }
func (noLock) Release(context.Context) error                  { return nil }

// TestWorkloadCells runs rw and semaphore cells with real worker processes: flock's shared and
// exclusive modes keep the rw checker clean, and the no-lock control trips both checkers.
func TestWorkloadCells(t *testing.T) {
	tests := []struct {
		name, backend string
		work          WorkSpec
		workers       int
		violated      bool
	}{
		{"rw flock", "flock", WorkSpec{Workload: WorkloadRW, ReadFraction: 0.9}, 4, false},
		{"rw exclusive flock", "flock", WorkSpec{Workload: WorkloadRW, ReadFraction: 0}, 3, false},
		{"rw no lock", "tnolock", WorkSpec{Workload: WorkloadRW, ReadFraction: 0.5}, 4, true},
		{"semaphore no lock", "tnolock", WorkSpec{Workload: WorkloadSemaphore, Permits: 2}, 4, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testCellOptions(t, tt.backend, CellSpec{Workers: tt.workers, Locks: 1, Seed: 7, Work: tt.work,
				Timing: Timing{Warmup: 50 * time.Millisecond, Hold: 200 * time.Microsecond}})
			c := RunCell(context.Background(), o)
			if c.Workload != tt.work.Workload {
				t.Errorf("cell workload %q; want %q", c.Workload, tt.work.Workload)
			}
			if tt.violated {
				if c.Violations == 0 || !strings.Contains(c.Failed, "MUTUAL EXCLUSION VIOLATED") {
					t.Fatalf("no-lock control not caught: violations %d, failed %q", c.Violations, c.Failed)
				}
				return
			}
			if c.Failed != "" {
				t.Fatalf("cell failed: %s", c.Failed)
			}
			if c.Violations != 0 || c.Ops == 0 || c.Latency.Max == 0 {
				t.Fatalf("implausible cell: ops %d violations %d %+v", c.Ops, c.Violations, c.ViolationKinds)
			}
		})
	}
}

// TestFanoutCell: every waiter wakes in every round of the futex broadcast, and the figures
// add up: one wake per waiter per measured round, one last wake per round.
func TestFanoutCell(t *testing.T) {
	const waiters, rounds = 4, 8
	o := testCellOptions(t, "futex-bcast", CellSpec{Workers: waiters, Locks: 1, Seed: 3,
		Work: WorkSpec{Workload: WorkloadFanout, Rounds: rounds}, Timing: Timing{Duration: 20 * time.Second}})
	c := RunCell(context.Background(), o)
	if c.Failed != "" {
		t.Fatalf("cell failed: %s", c.Failed)
	}
	f := c.Fanout
	if f == nil || f.Rounds != rounds || len(f.LastWakeNs) != rounds {
		t.Fatalf("fanout figures %+v; want %d rounds", f, rounds)
	}
	if c.Ops != waiters*rounds || c.Violations != 0 {
		t.Fatalf("ops %d (want %d), violations %d", c.Ops, waiters*rounds, c.Violations)
	}
	for i, v := range f.LastWakeNs {
		if v <= 0 || v > int64(5*time.Second) {
			t.Fatalf("round %d: last wake %v", i, time.Duration(v))
		}
	}
	if f.Wake.P50 <= 0 || f.LastWake.P50 < f.Wake.P50/2 || f.Wake != c.Latency {
		t.Fatalf("wake %+v last wake %+v latency %+v", f.Wake, f.LastWake, c.Latency)
	}
	t.Logf("futex-bcast W=%d: wake p50 %v max %v; last wake p50 %v (loaded box)", waiters,
		time.Duration(f.Wake.P50), time.Duration(f.Wake.Max), time.Duration(f.LastWake.P50))
}

// The embedded primitives scenario parses, validates, and every backend it names serves its
// stage's workload.
func TestPrimitivesScenario(t *testing.T) {
	sc, err := LoadScenario("primitives")
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, st := range sc.Stages() {
		w := WorkSpecOf(&st)
		seen[w.Workload] = true
		for _, name := range st.Backends {
			b, err := bench.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := bench.Supports(b, w.Workload); err != nil {
				t.Errorf("stage %s: %v", w.Workload, err)
			}
		}
	}
	for _, w := range []string{WorkloadMutex, WorkloadFanout, WorkloadRW, WorkloadSemaphore} {
		if !seen[w] {
			t.Errorf("no %s stage", w)
		}
	}
}
