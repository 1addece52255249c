// Package tune sweeps wwly server tunables over a benchmark scenario and picks a configuration:
// the grid (a cross product of value lists), the Pareto front of throughput against p99 latency,
// and a stated recommendation rule. Grid, ParetoFront and Recommend are pure functions; Sweep
// drives a caller-supplied Runner, so tests need no processes.
package tune

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/wwly/wwly/gate"
)

// Sentinel errors.
var (
	// ErrBadParam means a parameter name or value list is malformed.
	ErrBadParam = errors.New("tune: bad parameter")
	// ErrNoPoints means no configuration produced a measured lock cell.
	ErrNoPoints = errors.New("tune: no measured configuration")
)

// Param is one tunable and the values to try, in order. Name is the server flag without dashes
// ("flush-batch"); values are passed verbatim ("50us").
type Param struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// ParseList splits a comma list ("1, 16,128") into trimmed, non-empty, distinct values.
func ParseList(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return nil, fmt.Errorf("list %q: empty value: %w", s, ErrBadParam)
		}
		if strings.ContainsAny(v, " \t\n\"'") {
			return nil, fmt.Errorf("list %q: value %q has space or quote: %w", s, v, ErrBadParam)
		}
		if seen[v] {
			return nil, fmt.Errorf("list %q: %q twice: %w", s, v, ErrBadParam)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// ParseSet parses "name=v1,v2" (the --set flag) into a Param.
func ParseSet(s string) (Param, error) {
	name, list, ok := strings.Cut(s, "=")
	name = strings.TrimLeft(strings.TrimSpace(name), "-")
	if !ok || name == "" || strings.ContainsAny(name, " =\t") {
		return Param{}, fmt.Errorf("%q: want name=v1,v2: %w", s, ErrBadParam)
	}
	vals, err := ParseList(list)
	if err != nil {
		return Param{}, err
	}
	return Param{Name: name, Values: vals}, nil
}

// Config is one point of the grid: a value for each swept parameter, in parameter order.
type Config []Setting

// Setting is one parameter's value.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ServerArgs renders the configuration as the --server-args value of `wwly bench`
// ("--loops=1 --flush-batch=16").
func (c Config) ServerArgs() string {
	parts := make([]string, len(c))
	for i, s := range c {
		parts[i] = "--" + s.Name + "=" + s.Value
	}
	return strings.Join(parts, " ")
}

// Grid returns the cross product of the parameters' values, the last parameter varying fastest.
// A parameter named twice, or with no values, is ErrBadParam. No parameters give one empty
// Config (the server's defaults).
func Grid(params []Param) ([]Config, error) {
	seen := map[string]bool{}
	for _, p := range params {
		if len(p.Values) == 0 || seen[p.Name] {
			return nil, fmt.Errorf("parameter %q: no values or named twice: %w", p.Name, ErrBadParam)
		}
		seen[p.Name] = true
	}
	grid := []Config{{}}
	for _, p := range params {
		next := make([]Config, 0, len(grid)*len(p.Values))
		for _, c := range grid {
			for _, v := range p.Values {
				nc := append(append(Config{}, c...), Setting{Name: p.Name, Value: v})
				next = append(next, nc)
			}
		}
		grid = next
	}
	return grid, nil
}

// Point is one configuration's measurement of one lock cell.
type Point struct {
	Config string  `json:"config"` // server args
	Cell   string  `json:"cell"`   // gate.CellKey
	Ops    float64 `json:"ops_per_sec"`
	P50    float64 `json:"p50_ns"`
	P99    float64 `json:"p99_ns"`
	Pareto bool    `json:"pareto"`
	// OpsRatio and P99Ratio are Ops and P99 over those of the RefBackend cell with the same
	// workers and locks in the same run (0 when the run has none): on a box whose speed drifts
	// from minute to minute, a ratio to the yardstick measured beside it is what carries over.
	OpsRatio float64 `json:"ops_ratio,omitempty"`
	P99Ratio float64 `json:"p99_ratio,omitempty"`
}

// RefBackend is the yardstick each point is also reported against: the strict-FIFO futex ticket
// lock in shared memory, the ceiling of a fair handoff on the host. Its cells are not tuned (no
// server flag changes them); include it in the bench backends to get the ratios.
const RefBackend = "futex-fifo"

// refKey is the part of a cell key after the backend ("W=64 L=1"), shared by a cell and its
// yardstick cell.
func refKey(key string) (backend, rest string) {
	backend, rest, _ = strings.Cut(key, " ")
	return backend, rest
}

// dominates reports whether a is at least as good as b on both axes (more ops, lower p99) and
// strictly better on one.
func dominates(a, b Point) bool {
	return a.Ops >= b.Ops && a.P99 <= b.P99 && (a.Ops > b.Ops || a.P99 < b.P99)
}

// ParetoFront returns the points not dominated by any other (throughput up, p99 down), sorted by
// ascending p99 (then descending ops, then config). Duplicated points all stay on the front.
// Points with NaN values are ignored. The input is not modified.
func ParetoFront(points []Point) []Point {
	var front []Point
	for i, p := range points {
		if math.IsNaN(p.Ops) || math.IsNaN(p.P99) {
			continue
		}
		dominated := false
		for j, q := range points {
			if i != j && !math.IsNaN(q.Ops) && !math.IsNaN(q.P99) && dominates(q, p) {
				dominated = true
				break
			}
		}
		if !dominated {
			p.Pareto = true
			front = append(front, p)
		}
	}
	sort.Slice(front, func(i, j int) bool {
		a, b := front[i], front[j]
		if a.P99 != b.P99 {
			return a.P99 < b.P99
		}
		if a.Ops != b.Ops {
			return a.Ops > b.Ops
		}
		return a.Config < b.Config
	})
	return front
}

// DefaultP99Slack is the recommendation rule's latency allowance: 1.2 × the best p99.
const DefaultP99Slack = 1.2

// Recommend applies the rule "the highest throughput among the Pareto points whose p99 is at
// most slack × the best p99" (ties: lower p99, then config). It returns false for an empty front.
func Recommend(front []Point, slack float64) (Point, bool) {
	if len(front) == 0 {
		return Point{}, false
	}
	best := math.Inf(1)
	for _, p := range front {
		best = math.Min(best, p.P99)
	}
	var pick Point
	found := false
	for _, p := range front {
		if p.P99 > slack*best {
			continue
		}
		if !found || p.Ops > pick.Ops || (p.Ops == pick.Ops && (p.P99 < pick.P99 || (p.P99 == pick.P99 && p.Config < pick.Config))) {
			pick, found = p, true
		}
	}
	return pick, found
}

// RuleText states the recommendation rule for reports.
func RuleText(slack float64) string {
	return fmt.Sprintf("highest ops/s among Pareto points (ops/s up, p99 down) whose p99 <= %.2g x the best p99", slack)
}

// Runner runs the scenario once with the configuration's server args and returns the cells.
// Sweep calls it sequentially; seq numbers the runs from 0.
type Runner func(ctx context.Context, cfg Config, seq int) ([]gate.Cell, error)

// Run is one configuration's outcome.
type Run struct {
	Config     string   `json:"config"`
	Settings   Config   `json:"settings"`
	Points     []Point  `json:"points,omitempty"`
	Error      string   `json:"error,omitempty"`
	Skipped    []string `json:"skipped,omitempty"`
	Violations bool     `json:"violations,omitempty"` // a cell failed or broke mutual exclusion
}

// Recommendation is the pick for one cell key.
type Recommendation struct {
	Cell  string  `json:"cell"`
	Pick  Point   `json:"pick"`
	Front []Point `json:"front"`
}

// Result is tune.json.
type Result struct {
	Schema          int              `json:"schema"`
	Scenario        string           `json:"scenario,omitempty"`
	Params          []Param          `json:"params"`
	Rule            string           `json:"rule"`
	Runs            []Run            `json:"runs"`
	Recommendations []Recommendation `json:"recommendations"`
}

// ResultSchema is the version of tune.json.
const ResultSchema = 1

// Sweep runs every configuration of grid once, in order, and computes the Pareto front and the
// recommendation per lock cell (tcp-echo floor cells and RefBackend cells are not tuned; the
// latter give each point its ratios). A configuration whose run
// fails is recorded with its error and left out; Sweep returns an error only when ctx ends or no
// configuration was measured (the Result is still filled in as far as it got).
func Sweep(ctx context.Context, params []Param, grid []Config, slack float64, run Runner, log io.Writer) (Result, error) {
	if log == nil {
		log = io.Discard
	}
	res := Result{Schema: ResultSchema, Params: params, Rule: RuleText(slack)}
	byCell := map[string][]Point{}
	var cellOrder []string
	for i, cfg := range grid {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("tune: %w", err)
		}
		r := Run{Config: cfg.ServerArgs(), Settings: cfg}
		fmt.Fprintf(log, "tune: %d/%d %q\n", i+1, len(grid), r.Config)
		cells, err := run(ctx, cfg, i)
		var sums []gate.Summary
		if err == nil {
			sums, r.Skipped, err = gate.Summarize(cells)
		}
		if err != nil {
			r.Error = err.Error()
			r.Violations = errors.Is(err, gate.ErrCellFailed)
			fmt.Fprintf(log, "tune: %q: %v\n", r.Config, err)
			res.Runs = append(res.Runs, r)
			if ctx.Err() != nil {
				return res, fmt.Errorf("tune: %w", ctx.Err())
			}
			continue
		}
		refs := map[string]gate.Summary{}
		for _, s := range sums {
			if b, rest := refKey(s.Key); b == RefBackend {
				refs[rest] = s
			}
		}
		for _, s := range sums {
			b, rest := refKey(s.Key)
			if s.Floor || b == RefBackend {
				continue
			}
			p := Point{Config: r.Config, Cell: s.Key, Ops: s.Values[gate.MetricOps], P50: s.Values[gate.MetricP50], P99: s.Values[gate.MetricP99]}
			if ref, ok := refs[rest]; ok && ref.Values[gate.MetricOps] > 0 && ref.Values[gate.MetricP99] > 0 {
				p.OpsRatio = p.Ops / ref.Values[gate.MetricOps]
				p.P99Ratio = p.P99 / ref.Values[gate.MetricP99]
			}
			r.Points = append(r.Points, p)
			if byCell[s.Key] == nil {
				cellOrder = append(cellOrder, s.Key)
			}
			byCell[s.Key] = append(byCell[s.Key], p)
		}
		res.Runs = append(res.Runs, r)
	}
	for _, cell := range cellOrder {
		front := ParetoFront(byCell[cell])
		onFront := map[string]bool{}
		for _, p := range front {
			onFront[p.Config] = true
		}
		for i := range res.Runs {
			for j := range res.Runs[i].Points {
				if p := &res.Runs[i].Points[j]; p.Cell == cell && onFront[p.Config] {
					p.Pareto = true
				}
			}
		}
		pick, ok := Recommend(front, slack)
		if ok {
			res.Recommendations = append(res.Recommendations, Recommendation{Cell: cell, Pick: pick, Front: front})
		}
	}
	if len(res.Recommendations) == 0 {
		return res, fmt.Errorf("tune: %d configurations: %w", len(grid), ErrNoPoints)
	}
	return res, nil
}
