package reports

// The primitives sections (issue 8): the fan-out distribution of the fanout workload against its
// yardstick and peers, the reader-writer lock against the exclusive mutex, and the semaphore.

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/wwly/wwly/runfile"
)

// Fan-out references: the yardstick every fanout row is divided by, and the goals of issue 8 at
// FanoutGoalWorkers.
const (
	FanoutYardstick   = "futex-bcast"
	FanoutPeer        = "redis-pubsub"
	FanoutGoalWorkers = 1000
	// FanoutGoalVsYardstick: wwly's last wake at most this many times the yardstick's.
	FanoutGoalVsYardstick = 1.5
	// FanoutGoalVsPeer: the Redis pub/sub peer's last wake at least this many times wwly's.
	FanoutGoalVsPeer = 10.0
)

// primSection is one titled table of the primitives part of a report, with a sentence above it.
type primSection struct {
	Title, Intro string
	Table        table
}

// primitiveSections is every primitives section the run has data for, in a fixed order.
func primitiveSections(d *Data) []primSection {
	var out []primSection
	out = append(out, fanoutSections(d)...)
	if s, ok := rwSection(d); ok {
		out = append(out, s)
	}
	if s, ok := semaphoreSection(d); ok {
		out = append(out, s)
	}
	return out
}

// cellsOf is the cells of workload w that are results, sorted by workers, backend order, repeat.
func (d *Data) cellsOf(w string) []*Cell {
	order := map[string]int{}
	for i, n := range d.BackendOrder() {
		order[n] = i
	}
	var cs []*Cell
	for i := range d.Cells {
		c := &d.Cells[i]
		if c.Workload == w && c.IsResult() {
			cs = append(cs, c)
		}
	}
	slices.SortStableFunc(cs, func(a, b *Cell) int {
		return cmp.Or(cmp.Compare(a.Workers, b.Workers), cmp.Compare(order[a.Backend], order[b.Backend]),
			cmp.Compare(a.Repeat, b.Repeat))
	})
	return cs
}

// fanoutSections: one table per worker count, then the goals at FanoutGoalWorkers.
func fanoutSections(d *Data) []primSection {
	cs := d.cellsOf(runfile.WorkloadFanout)
	var out []primSection
	for len(cs) > 0 {
		w := cs[0].Workers
		n := 1
		for n < len(cs) && cs[n].Workers == w {
			n++
		}
		out = append(out, fanoutTable(w, cs[:n]))
		cs = cs[n:]
	}
	if g, ok := fanoutGoals(d); ok {
		out = append(out, g)
	}
	return out
}

func fanoutTable(w int, cs []*Cell) primSection {
	yard := lastWakeP50(cs, FanoutYardstick)
	t := table{Header: []string{"backend", "rounds", "wake p50", "wake p99", "wake max", "last wake p50",
		"last wake p99", "last wake max", "last wake p50 vs " + FanoutYardstick},
		Align: []string{"l", "r", "r", "r", "r", "r", "r", "r", "r"}}
	for _, c := range cs {
		f := c.Fanout
		if f == nil {
			continue
		}
		t.Rows = append(t.Rows, tableRow{Cells: []string{c.Backend, fmt.Sprint(f.Rounds),
			fmtLatency(f.Wake.P50), fmtLatency(f.Wake.P99), fmtLatency(f.Wake.Max),
			fmtLatency(f.LastWake.P50), fmtLatency(f.LastWake.P99), fmtLatency(f.LastWake.Max),
			fmtRatio(float64(f.LastWake.P50), float64(yard))}, Strong: map[int]bool{}})
	}
	return primSection{Title: fmt.Sprintf("Event fan-out, W = %d waiting processes", w),
		Intro: "Wake = a waiter's wake minus the set, on CLOCK_MONOTONIC, over every waiter of every round; " +
			"last wake = each round's last waiter. The ratio divides by the futex broadcast yardstick.",
		Table: t}
}

// lastWakeP50 is the median per-round last wake of backend's first cell among cs; 0 if none.
func lastWakeP50(cs []*Cell, backend string) int64 {
	for _, c := range cs {
		if c.Backend == backend && c.Fanout != nil {
			return c.Fanout.LastWake.P50
		}
	}
	return 0
}

// fanoutGoals checks issue 8's goals at FanoutGoalWorkers on the median last wake.
func fanoutGoals(d *Data) (primSection, bool) {
	var at []*Cell
	for _, c := range d.cellsOf(runfile.WorkloadFanout) {
		if c.Workers == FanoutGoalWorkers {
			at = append(at, c)
		}
	}
	ww, yard, peer := lastWakeP50(at, BaselineBackend), lastWakeP50(at, FanoutYardstick), lastWakeP50(at, FanoutPeer)
	if ww == 0 {
		return primSection{}, false
	}
	t := table{Header: []string{"goal", "ratio", "met"}, Align: []string{"l", "r", "l"}}
	row := func(goal string, a, b int64, ok func(float64) bool) {
		if a == 0 || b == 0 {
			t.Rows = append(t.Rows, tableRow{Cells: []string{goal, "—", "not measured"}})
			return
		}
		r := float64(a) / float64(b)
		met := "no"
		if ok(r) {
			met = "yes"
		}
		t.Rows = append(t.Rows, tableRow{Cells: []string{goal, fmtRatio(float64(a), float64(b)), met},
			Alert: met == "no"})
	}
	row(fmt.Sprintf("wwly / %s ≤ %.1f×", FanoutYardstick, FanoutGoalVsYardstick), ww, yard,
		func(r float64) bool { return r <= FanoutGoalVsYardstick })
	row(fmt.Sprintf("%s / wwly ≥ %.0f×", FanoutPeer, FanoutGoalVsPeer), peer, ww,
		func(r float64) bool { return r >= FanoutGoalVsPeer })
	return primSection{Title: fmt.Sprintf("Fan-out goals at W = %d", FanoutGoalWorkers),
		Intro: "Median over rounds of the last waiter's wake. A figure from a loaded machine does not judge the goal.",
		Table: t}, true
}

// rwSection: the rw workload against the mutex workload of the same backend, workers and hold.
func rwSection(d *Data) (primSection, bool) {
	rws := d.cellsOf(runfile.WorkloadRW)
	if len(rws) == 0 {
		return primSection{}, false
	}
	mutex := map[[3]int64]map[string]*Cell{}
	for i := range d.Cells {
		c := &d.Cells[i]
		if c.Workload != "" || !c.IsResult() {
			continue
		}
		k := [3]int64{int64(c.Workers), int64(c.Locks), c.HoldNs}
		if mutex[k] == nil {
			mutex[k] = map[string]*Cell{}
		}
		if _, dup := mutex[k][c.Backend]; !dup {
			mutex[k][c.Backend] = c
		}
	}
	t := table{Header: []string{"backend", "W", "hold", "reads", "rw ops/s", "rw p50", "rw p99",
		"mutex ops/s", "mutex p99", "rw / mutex ops/s"}, Align: []string{"l", "r", "r", "r", "r", "r", "r", "r", "r", "r"}}
	for _, c := range rws {
		row := []string{c.Backend, fmt.Sprint(c.Workers), fmtLatency(c.HoldNs), fmt.Sprintf("%.0f%%", 100*c.ReadFraction),
			fmtOps(c.OpsPerSec), tailOf(c, c.Latency.P50), tailOf(c, c.Latency.P99), "—", "—", "—"}
		if m := mutex[[3]int64{int64(c.Workers), int64(c.Locks), c.HoldNs}][c.Backend]; m != nil {
			row[7], row[8], row[9] = fmtOps(m.OpsPerSec), tailOf(m, m.Latency.P99), fmtRatio(c.OpsPerSec, m.OpsPerSec)
		}
		t.Rows = append(t.Rows, tableRow{Cells: row, Alert: c.Violations > 0})
	}
	return primSection{Title: "RWMutex against the exclusive mutex",
		Intro: "The same workers and hold; shared ops overlap, exclusive ones are checked for mutual exclusion " +
			"(a reader never beside a writer, a writer alone).",
		Table: t}, true
}

func semaphoreSection(d *Data) (primSection, bool) {
	cs := d.cellsOf(runfile.WorkloadSemaphore)
	if len(cs) == 0 {
		return primSection{}, false
	}
	t := table{Header: []string{"backend", "W", "permits", "hold", "ops/s", "acquire p50", "acquire p99", "violations"},
		Align: []string{"l", "r", "r", "r", "r", "r", "r", "r"}}
	for _, c := range cs {
		t.Rows = append(t.Rows, tableRow{Cells: []string{c.Backend, fmt.Sprint(c.Workers), fmt.Sprint(c.Permits),
			fmtLatency(c.HoldNs), fmtOps(c.OpsPerSec), tailOf(c, c.Latency.P50), tailOf(c, c.Latency.P99),
			fmt.Sprint(c.Violations)}, Alert: c.Violations > 0})
	}
	return primSection{Title: "Semaphore",
		Intro: "Each op takes one permit; the checker counts a violation whenever more than `permits` hold at once.",
		Table: t}, true
}

// tailOf is a latency percentile, or "n/a" when the cell's tail is not conclusive.
func tailOf(c *Cell, ns int64) string {
	if !c.ShowTail() {
		return "n/a"
	}
	return fmtLatency(ns)
}
