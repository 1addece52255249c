package gate

import (
	"errors"
	"testing"
)

func runCells(lockOps float64, lockP50 int64, echoOps float64, echoP50 int64) []Cell {
	return []Cell{
		{Backend: "wwly", Workers: 8, Locks: 1, Mode: "closed", OpsPerSec: lockOps,
			Latency: Percentiles{P50: lockP50, P90: 2 * lockP50, P99: 4 * lockP50, Max: 10 * lockP50}},
		{Backend: FloorBackend, Workers: 8, Mode: "closed", OpsPerSec: echoOps,
			Latency: Percentiles{P50: echoP50, P90: 2 * echoP50, P99: 4 * echoP50, Max: 10 * echoP50}},
	}
}

func TestCompareBaseline(t *testing.T) {
	base := runCells(40000, 150000, 100000, 60000)
	tests := []struct {
		name string
		cand []Cell
		want Verdict
	}{
		{"identical", runCells(40000, 150000, 100000, 60000), Pass},
		// The whole machine is 2x slower: the floor moves too, so the normalized ratio is 1.
		{"slower machine, same code", runCells(20000, 300000, 50000, 120000), Pass},
		{"code 25% slower", runCells(32000, 187500, 100000, 60000), Regression},
		{"code 5% slower", runCells(38000, 157500, 100000, 60000), Pass},
		{"echo violations are expected", func() []Cell {
			c := runCells(40000, 150000, 100000, 60000)
			c[1].Violations = 66
			return c
		}(), Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := CompareBaseline(base, tc.cand, 0.10)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.want {
				t.Errorf("verdict %s, want %s: %+v", res.Verdict, tc.want, res.Metrics)
			}
			if len(res.Metrics) != len(metricOrder) {
				t.Errorf("%d metrics", len(res.Metrics))
			}
		})
	}
}

// TestFloorFor: the floor of a lock cell is the echo cell with the same workers and locks if
// measured, else the same workers, else the first echo cell.
func TestFloorFor(t *testing.T) {
	echo := func(w, l int, ops float64) Cell {
		return Cell{Backend: FloorBackend, Workers: w, Locks: l, OpsPerSec: ops}
	}
	cells := []Cell{
		{Backend: "wwly", Workers: 8, Locks: 64}, {Backend: "wwly", Workers: 8, Locks: 2}, {Backend: "wwly", Workers: 64, Locks: 1},
		echo(1, 1, 1), echo(8, 1, 81), echo(8, 64, 864), echo(8, 64, 866),
	}
	for key, want := range map[string]float64{"wwly W=8 L=64": 865, "wwly W=8 L=2": 81, "wwly W=64 L=1": 1} {
		s, err := floorFor(key, cells)
		if err != nil || s.Values[MetricOps] != want {
			t.Errorf("%s: floor ops %v (%v), want %v", key, s.Values[MetricOps], err, want)
		}
	}
}

func TestCompareBaselineErrors(t *testing.T) {
	base := runCells(40000, 150000, 100000, 60000)
	noFloor := base[:1]
	other := runCells(40000, 150000, 100000, 60000)
	other[0].Workers = 64
	violating := runCells(40000, 150000, 100000, 60000)
	violating[0].Violations = 2
	for _, tc := range []struct {
		name       string
		base, cand []Cell
		want       error
	}{
		{"no floor", noFloor, noFloor, ErrNoFloor},
		{"cell missing", base, other, ErrMismatch},
		{"violation", base, violating, ErrCellFailed},
	} {
		if _, err := CompareBaseline(tc.base, tc.cand, 0.1); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
