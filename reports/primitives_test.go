package reports

import (
	"strings"
	"testing"

	"github.com/wwly/wwly/runfile"
)

// TestPrimitiveSections: the goals table divides the median last wakes at W = 1000 and says whether
// each goal is met; the rw table divides by the mutex cell of the same backend and workers.
func TestPrimitiveSections(t *testing.T) {
	fan := func(backend string, lastP50 int64) Cell {
		c := Cell{}
		c.Backend, c.Workers, c.Locks, c.Workload = backend, FanoutGoalWorkers, 1, runfile.WorkloadFanout
		c.Ops, c.Conclusive = 1000, true
		c.Fanout = &runfile.Fanout{Rounds: 10, LastWake: runfile.Percentiles{P50: lastP50, Max: 2 * lastP50}}
		return c
	}
	lock := func(workload string, ops float64) Cell {
		c := Cell{}
		c.Backend, c.Workers, c.Locks, c.HoldNs, c.Workload, c.OpsPerSec = "wwly", 64, 1, 1e6, workload, ops
		c.ReadFraction = 0.9
		return c
	}
	d := &Data{Cells: []Cell{fan("wwly", 1_200_000), fan(FanoutYardstick, 1_000_000), fan(FanoutPeer, 15_000_000),
		lock(runfile.WorkloadRW, 3000), lock("", 1000)}}
	var titles []string
	var goals, rw table
	for _, s := range primitiveSections(d) {
		titles = append(titles, s.Title)
		switch {
		case strings.HasPrefix(s.Title, "Fan-out goals"):
			goals = s.Table
		case strings.HasPrefix(s.Title, "RWMutex"):
			rw = s.Table
		}
	}
	if len(titles) != 3 {
		t.Fatalf("sections %q", titles)
	}
	if len(goals.Rows) != 2 || goals.Rows[0].Cells[1] != "1.20×" || goals.Rows[0].Cells[2] != "yes" ||
		goals.Rows[1].Cells[1] != "12.50×" || goals.Rows[1].Cells[2] != "yes" {
		t.Fatalf("goals %+v", goals.Rows)
	}
	if len(rw.Rows) != 1 || rw.Rows[0].Cells[9] != "3.00×" {
		t.Fatalf("rw %+v", rw.Rows)
	}
}
