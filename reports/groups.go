package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wwly/wwly/units"
)

// Reference backends the tables compare every row against.
const (
	// BaselineBackend is the system under test.
	BaselineBackend = "wwly"
	// FloorBackend is the loopback TCP round trip yardstick: no lock can beat it over TCP.
	FloorBackend = "tcp-echo"
)

// nonLocks are yardsticks that are not locks, so violations there are expected, not a failure.
var nonLocks = map[string]bool{"none": true, "tcp-echo": true}

// GroupKey identifies a scenario cell group: cells that differ only by backend (and repeat).
type GroupKey struct {
	// Workload is the cells' workload ("" for the mutex): cells of different workloads are
	// different measurements even on one backend.
	Workload string
	Workers  int
	Locks    int
	HoldNs   int64
	Mode     string
	Rate     float64
}

// String is the group's title, e.g. "workers=64 locks=1 hold=0s closed".
func (k GroupKey) String() string {
	s := fmt.Sprintf("workers=%d locks=%d hold=%s %s", k.Workers, k.Locks, time.Duration(k.HoldNs), k.Mode)
	if k.Mode == "open" {
		s += fmt.Sprintf(" rate=%s/s per worker", fmtFloat(k.Rate))
	}
	if k.Workload != "" {
		s = k.Workload + " " + s
	}
	return s
}

// series is the group key without the worker count: one line on a "vs workers" plot.
func (k GroupKey) series() GroupKey { k.Workers = 0; return k }

// seriesString titles a "vs workers" plot.
func (k GroupKey) seriesString() string {
	s := fmt.Sprintf("locks=%d hold=%s %s", k.Locks, time.Duration(k.HoldNs), k.Mode)
	if k.Mode == "open" {
		s += fmt.Sprintf(" rate=%s/s", fmtFloat(k.Rate))
	}
	if k.Workload != "" {
		s = k.Workload + " " + s
	}
	return s
}

func compareKeys(a, b GroupKey) int {
	return cmp.Or(
		cmp.Compare(a.Workload, b.Workload),
		cmp.Compare(a.Mode, b.Mode),
		cmp.Compare(a.Rate, b.Rate),
		cmp.Compare(a.Locks, b.Locks),
		cmp.Compare(a.HoldNs, b.HoldNs),
		cmp.Compare(a.Workers, b.Workers),
	)
}

// Group is a scenario cell group with its cells in display order.
type Group struct {
	Key   GroupKey
	Cells []*Cell
}

func keyOf(c *Cell) GroupKey {
	k := GroupKey{Workload: c.Workload, Workers: c.Workers, Locks: c.Locks, HoldNs: c.HoldNs, Mode: c.Mode}
	if c.Mode == "open" {
		k.Rate = c.Rate
	}
	return k
}

// Groups returns the cells grouped by scenario, groups sorted by mode, rate, locks, hold,
// workers; within a group, cells sorted by backend order (see BackendOrder) then repeat.
func (d *Data) Groups() []Group {
	order := d.backendRank()
	byKey := map[GroupKey][]*Cell{}
	for i := range d.Cells {
		c := &d.Cells[i]
		byKey[keyOf(c)] = append(byKey[keyOf(c)], c)
	}
	groups := make([]Group, 0, len(byKey))
	for k, cs := range byKey {
		slices.SortStableFunc(cs, func(a, b *Cell) int {
			return cmp.Or(
				cmp.Compare(order[a.Backend], order[b.Backend]),
				cmp.Compare(a.Backend, b.Backend),
				cmp.Compare(strings.Join(a.ServerArgs, " "), strings.Join(b.ServerArgs, " ")),
				cmp.Compare(a.Repeat, b.Repeat),
			)
		})
		groups = append(groups, Group{Key: k, Cells: cs})
	}
	slices.SortFunc(groups, func(a, b Group) int { return compareKeys(a.Key, b.Key) })
	return groups
}

// BackendOrder is the display order of backends: wwly first, then the order of the run's
// configuration, then any others alphabetically, the tcp-echo floor last.
func (d *Data) BackendOrder() []string {
	seen := map[string]bool{}
	var names []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, n := range d.Run.Config.Backends {
		add(n)
	}
	var extra []string
	for _, c := range d.Cells {
		if !seen[c.Backend] && !slices.Contains(extra, c.Backend) {
			extra = append(extra, c.Backend)
		}
	}
	slices.Sort(extra)
	for _, n := range extra {
		add(n)
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(backendClass(a), backendClass(b)) })
	return names
}

func backendClass(name string) int {
	switch name {
	case BaselineBackend:
		return 0
	case FloorBackend:
		return 2
	}
	return 1
}

func (d *Data) backendRank() map[string]int {
	rank := map[string]int{}
	for i, n := range d.BackendOrder() {
		rank[n] = i
	}
	return rank
}

// multiRepeat reports whether the run repeated cells, so labels need the repeat number to tell
// them apart. (Repeat numbers are whatever the harness wrote, 0- or 1-based.)
func (d *Data) multiRepeat() bool {
	for _, c := range d.Cells {
		if c.Repeat != d.Cells[0].Repeat {
			return true
		}
	}
	return false
}

// label names a cell within its group: the backend, its server tunables, and the repeat when
// the run repeats cells.
func (c *Cell) label(withRepeat bool) string {
	s := c.Backend
	if len(c.ServerArgs) > 0 {
		s += " " + strings.Join(c.ServerArgs, " ")
	}
	if withRepeat {
		s += fmt.Sprintf(" #%d", c.Repeat)
	}
	return s
}

// reference finds the cell of backend name that cell c is compared against: the one with
// the same repeat (and no server tunables when there is a choice), else the first that ran.
func reference(g Group, c *Cell, name string) *Cell {
	var best *Cell
	for _, o := range g.Cells {
		if o.Backend != name || !o.Ran() {
			continue
		}
		score := func(x *Cell) int {
			s := 0
			if x.Repeat == c.Repeat {
				s += 2
			}
			if len(x.ServerArgs) == 0 {
				s++
			}
			return s
		}
		if best == nil || score(o) > score(best) {
			best = o
		}
	}
	return best
}

// fmtLatency prints nanoseconds as every wwly output does (units.Latency): "<1µs", "12.3µs".
func fmtLatency(ns int64) string { return units.Latency(ns) }

// fmtOps prints a throughput with thousands separators, e.g. "115,203".
func fmtOps(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	n := int64(math.Round(v))
	s := fmt.Sprintf("%d", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtRatio prints a/b as "1.23×", or "—" when undefined.
func fmtRatio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "—"
	}
	r := a / b
	switch {
	case math.Abs(r) >= 100:
		return fmt.Sprintf("%.0f×", r)
	case math.Abs(r) >= 0.1 || r == 0:
		return fmt.Sprintf("%.2f×", r)
	}
	// Keep two significant digits for the tiny ratios against a backend orders of magnitude away.
	return fmt.Sprintf("%.2g×", r)
}

// fmtFloat prints a float compactly and deterministically.
func fmtFloat(v float64) string {
	return fmt.Sprintf("%g", v)
}
