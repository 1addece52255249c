package tune

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wwly/wwly/gate"
)

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"1,2", []string{"1", "2"}, false},
		{" 0 , 50us ", []string{"0", "50us"}, false},
		{"8", []string{"8"}, false},
		{"1,,2", nil, true},
		{"", nil, true},
		{"1,1", nil, true},
		{"a b", nil, true},
	} {
		got, err := ParseList(tc.in)
		if (err != nil) != tc.err || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v %v, want %v err=%v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrBadParam) {
			t.Errorf("%q: %v is not ErrBadParam", tc.in, err)
		}
	}
}

func TestParseSet(t *testing.T) {
	p, err := ParseSet("--barge-limit=0,4,64")
	if err != nil || p.Name != "barge-limit" || len(p.Values) != 3 {
		t.Fatalf("%+v %v", p, err)
	}
	for _, bad := range []string{"x", "=1", "a b=1", "x="} {
		if _, err := ParseSet(bad); !errors.Is(err, ErrBadParam) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestGrid(t *testing.T) {
	g, err := Grid([]Param{{"loops", []string{"1", "2"}}, {"queue-cap", []string{"8", "64"}}, {"flush-batch", []string{"1", "16", "128"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(g) != 12 {
		t.Fatalf("%d configs", len(g))
	}
	if got := g[0].ServerArgs(); got != "--loops=1 --queue-cap=8 --flush-batch=1" {
		t.Errorf("first %q", got)
	}
	if got := g[11].ServerArgs(); got != "--loops=2 --queue-cap=64 --flush-batch=128" {
		t.Errorf("last %q", got)
	}
	seen := map[string]bool{}
	for _, c := range g {
		seen[c.ServerArgs()] = true
	}
	if len(seen) != 12 {
		t.Errorf("duplicates: %d distinct", len(seen))
	}
	if g, err := Grid(nil); err != nil || len(g) != 1 || g[0].ServerArgs() != "" {
		t.Errorf("empty grid: %v %v", g, err)
	}
	if _, err := Grid([]Param{{"a", []string{"1"}}, {"a", []string{"2"}}}); !errors.Is(err, ErrBadParam) {
		t.Errorf("twice: %v", err)
	}
}

func pt(cfg string, ops, p99 float64) Point { return Point{Config: cfg, Cell: "c", Ops: ops, P99: p99} }

func TestParetoFront(t *testing.T) {
	tests := []struct {
		name string
		in   []Point
		want []string // configs on the front, by ascending p99
	}{
		{"empty", nil, nil},
		{"one", []Point{pt("a", 1, 1)}, []string{"a"}},
		{"dominated", []Point{pt("a", 10, 100), pt("b", 20, 50)}, []string{"b"}},
		{"trade-off", []Point{pt("fast", 50, 300), pt("low", 20, 100), pt("mid", 30, 200), pt("bad", 25, 250)}, []string{"low", "mid", "fast"}},
		{"equal ops, lower p99 wins", []Point{pt("a", 10, 100), pt("b", 10, 90)}, []string{"b"}},
		{"duplicates both stay", []Point{pt("a", 10, 100), pt("b", 10, 100)}, []string{"a", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			front := ParetoFront(tc.in)
			var got []string
			for _, p := range front {
				got = append(got, p.Config)
				if !p.Pareto {
					t.Errorf("%s not marked", p.Config)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("front %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRecommend(t *testing.T) {
	front := ParetoFront([]Point{pt("low", 20, 100), pt("mid", 30, 115), pt("fast", 50, 300)})
	if p, ok := Recommend(front, DefaultP99Slack); !ok || p.Config != "mid" {
		t.Errorf("pick %+v %v, want mid (fast exceeds 1.2x best p99)", p, ok)
	}
	if p, _ := Recommend(front, 5); p.Config != "fast" {
		t.Errorf("slack 5: %+v", p)
	}
	if _, ok := Recommend(nil, 1.2); ok {
		t.Error("empty front recommended something")
	}
}

func fakeCells(ops, p99 float64) []gate.Cell {
	return []gate.Cell{
		{Backend: "wwly", Workers: 8, Locks: 1, Mode: "closed", OpsPerSec: ops, Latency: gate.Percentiles{P50: int64(p99 / 4), P90: int64(p99 / 2), P99: int64(p99), Max: int64(2 * p99)}},
		{Backend: gate.FloorBackend, Workers: 8, Mode: "closed", OpsPerSec: 100000, Latency: gate.Percentiles{P50: 1, P90: 2, P99: 3, Max: 4}},
	}
}

func TestSweep(t *testing.T) {
	params := []Param{{"flush-batch", []string{"1", "16", "128"}}, {"flush-interval", []string{"0", "50us"}}}
	grid, err := Grid(params)
	if err != nil {
		t.Fatal(err)
	}
	// A model: bigger batches raise throughput and p99; a flush interval adds latency only;
	// flush-batch=128 with an interval "crashes".
	run := func(_ context.Context, cfg Config, seq int) ([]gate.Cell, error) {
		args := cfg.ServerArgs()
		ops, p99 := 30000.0, 200000.0
		switch {
		case strings.Contains(args, "flush-batch=16"):
			ops, p99 = 40000, 220000
		case strings.Contains(args, "flush-batch=128"):
			ops, p99 = 45000, 400000
		}
		if strings.Contains(args, "50us") {
			p99 += 50000
			ops *= 0.99
			if strings.Contains(args, "128") {
				c := fakeCells(ops, p99)
				c[0].Violations = 3
				return c, nil
			}
		}
		return fakeCells(ops, p99), nil
	}
	res, err := Sweep(context.Background(), params, grid, DefaultP99Slack, run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 6 || len(res.Recommendations) != 1 {
		t.Fatalf("%d runs, %d recommendations", len(res.Runs), len(res.Recommendations))
	}
	rec := res.Recommendations[0]
	if rec.Pick.Config != "--flush-batch=16 --flush-interval=0" {
		t.Errorf("pick %q", rec.Pick.Config)
	}
	if n := len(rec.Front); n != 3 {
		t.Errorf("front %+v", rec.Front)
	}
	if last := res.Runs[5]; last.Error == "" || !last.Violations {
		t.Errorf("violating run not recorded: %+v", last)
	}
	dir := t.TempDir()
	if err := WriteFiles(dir, res); err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "tune.md"))
	for _, want := range []string{"**Recommended:** `--flush-batch=16 --flush-interval=0`", "Rule: highest ops/s", "error:"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("tune.md lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tune.json")); err != nil {
		t.Error(err)
	}
}

func TestSweepNothingMeasured(t *testing.T) {
	grid, _ := Grid(nil)
	run := func(context.Context, Config, int) ([]gate.Cell, error) { return nil, errors.New("no bench") }
	if _, err := Sweep(context.Background(), nil, grid, 1.2, run, nil); !errors.Is(err, ErrNoPoints) {
		t.Fatalf("%v", err)
	}
}

func ExampleRecommend() {
	front := ParetoFront([]Point{
		{Config: "--flush-batch=1", Ops: 30000, P99: 200e3},
		{Config: "--flush-batch=16", Ops: 40000, P99: 230e3},
		{Config: "--flush-batch=128", Ops: 45000, P99: 400e3},
		{Config: "--flush-interval=50us", Ops: 29000, P99: 250e3},
	})
	pick, _ := Recommend(front, DefaultP99Slack)
	fmt.Println(len(front), pick.Config)
	// Output: 3 --flush-batch=16
}

// TestSweepHandoffRatios: a sweep of --handoff over wwly with the futex-fifo yardstick in the
// same runs reports each point as ratios to the yardstick, and never tunes the yardstick.
func TestSweepHandoffRatios(t *testing.T) {
	params := []Param{{"handoff", []string{"fifo", "barge:4", "barge:64"}}}
	grid, err := Grid(params)
	if err != nil {
		t.Fatal(err)
	}
	type meas struct{ ops, p99 float64 }
	model := map[string]meas{"--handoff=fifo": {8000, 40e6}, "--handoff=barge:4": {16000, 60e6}, "--handoff=barge:64": {24000, 200e6}}
	run := func(_ context.Context, cfg Config, _ int) ([]gate.Cell, error) {
		m := model[cfg.ServerArgs()]
		lat := func(p99 float64) gate.Percentiles {
			return gate.Percentiles{P50: int64(p99 / 4), P90: int64(p99 / 2), P99: int64(p99), Max: int64(2 * p99)}
		}
		return []gate.Cell{
			{Backend: "wwly", Workers: 64, Locks: 1, Mode: "closed", OpsPerSec: m.ops, Latency: lat(m.p99)},
			{Backend: RefBackend, Workers: 64, Locks: 1, Mode: "closed", OpsPerSec: 16000, Latency: lat(20e6)},
		}, nil
	}
	res, err := Sweep(context.Background(), params, grid, 4, run, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{"--handoff=fifo": {0.5, 2}, "--handoff=barge:4": {1, 3}, "--handoff=barge:64": {1.5, 10}}
	for _, r := range res.Runs {
		if len(r.Points) != 1 || r.Points[0].Cell != "wwly W=64 L=1" {
			t.Fatalf("%s: points %+v, want the wwly cell only", r.Config, r.Points)
		}
		p := r.Points[0]
		if w := want[r.Config]; p.OpsRatio != w[0] || p.P99Ratio != w[1] {
			t.Errorf("%s: ratios %v, %v; want %v", r.Config, p.OpsRatio, p.P99Ratio, w)
		}
	}
	var md strings.Builder
	if err := WriteMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"ops/s ÷ futex-fifo", "| `--handoff=barge:4` | wwly W=64 L=1 | 16000 |", "| 1.00× | 3.00× |"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("tune.md lacks %q:\n%s", s, md.String())
		}
	}
}
