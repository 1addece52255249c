package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestRunCellClean(t *testing.T) {
	tests := []struct {
		backend string
		workers int
		locks   int
		rate    float64
	}{
		{backend: "tflock", workers: 1, locks: 1},
		{backend: "tflock", workers: 4, locks: 2},
		{backend: "ttoken", workers: 3, locks: 1},
		{backend: "tflock", workers: 2, locks: 1, rate: 2000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/W=%d/L=%d/rate=%v", tt.backend, tt.workers, tt.locks, tt.rate), func(t *testing.T) {
			o := testCellOptions(t, tt.backend, CellSpec{Workers: tt.workers, Locks: tt.locks, Seed: 42,
				Timing: Timing{Rate: tt.rate, Warmup: 100 * time.Millisecond, Hold: 5 * time.Microsecond}})
			var hlog bytes.Buffer
			o.Hlog = &hlog
			c := RunCell(context.Background(), o)
			if c.Failed != "" {
				t.Fatalf("cell failed: %s", c.Failed)
			}
			if c.Violations != 0 {
				t.Fatalf("violations in an exclusive backend: %d %+v", c.Violations, c.ViolationKinds)
			}
			if c.Ops == 0 || c.TotalOps < c.Ops || c.Latency.P50 == 0 || c.Cycle.Max == 0 {
				t.Fatalf("implausible cell %+v", c)
			}
			if len(c.PerWorkerOps) != tt.workers || c.Jain <= 0 || c.Jain > 1 {
				t.Fatalf("per-worker ops %v jain %v", c.PerWorkerOps, c.Jain)
			}
			if (tt.rate > 0) != (c.LatencyUncorrected != nil) || (tt.rate > 0) != (c.Mode == "open") {
				t.Fatalf("mode %s uncorrected %v for rate %v", c.Mode, c.LatencyUncorrected, tt.rate)
			}
			if tt.rate > 0 {
				// Open loop at 2000/s per worker for 300 ms: about 600 ops each, never far above.
				if per := float64(c.Ops) / float64(tt.workers); per > 700 {
					t.Fatalf("open loop ran %.0f ops per worker, the pacer allows ~600", per)
				}
			}
			if c.WorkerRSSBytes <= 0 || c.WorkerPSSBytes <= 0 {
				t.Fatalf("no worker memory: rss %d pss %d", c.WorkerRSSBytes, c.WorkerPSSBytes)
			}
			// The hlog holds the window's intervals and their counts add up to the cell's ops.
			r := hdrhistogram.NewHistogramLogReader(&hlog)
			var n int64
			for h, err := r.NextIntervalHistogram(); h != nil && err == nil; h, err = r.NextIntervalHistogram() {
				n += h.TotalCount()
				if h.Tag() != tt.backend {
					t.Fatalf("hlog tag %q", h.Tag())
				}
			}
			if n != c.Ops {
				t.Fatalf("hlog counts %d ops, cell %d", n, c.Ops)
			}
		})
	}
}

// The barrier: no worker starts before the common instant (RunCell fails the cell if one does),
// spawn and barrier times are reported, and the start skew is measured. The skew bound is loose:
// on a loaded 2-core box under -race a woken process can wait long for a CPU.
func TestRunCellBarrier(t *testing.T) {
	o := testCellOptions(t, "tnone", CellSpec{Workers: 6, Locks: 1})
	c := RunCell(context.Background(), o)
	if c.Failed != "" {
		t.Fatal(c.Failed)
	}
	if c.SpawnNs <= 0 || c.BarrierNs <= 0 {
		t.Fatalf("spawn %d barrier %d", c.SpawnNs, c.BarrierNs)
	}
	t.Logf("spawn %v, barrier %v, start skew %v", time.Duration(c.SpawnNs), time.Duration(c.BarrierNs), time.Duration(c.StartSkewNs))
	if skew := time.Duration(c.StartSkewNs); skew <= 0 || skew > 3*time.Second {
		t.Fatalf("workers started %v apart", skew)
	}
}

// The control: with no lock, overlapping holders are caught; the cell is not failed for it.
func TestRunCellControlCaught(t *testing.T) {
	o := testCellOptions(t, "tnone", CellSpec{Workers: 4, Locks: 1, Timing: Timing{Hold: 20 * time.Microsecond}})
	c := RunCell(context.Background(), o)
	if c.Failed != "" {
		t.Fatalf("control cell failed: %s", c.Failed)
	}
	if c.Violations == 0 || c.ViolationKinds.Witness == 0 {
		t.Fatalf("no violations caught with no lock: %+v", c.ViolationKinds)
	}
}

func TestRunCellFailures(t *testing.T) {
	tests := []struct {
		backend string
		want    string
	}{
		{backend: "tbadtoken", want: "MUTUAL EXCLUSION VIOLATED"},
		{backend: "tcrash", want: "boom: test backend crashes on purpose"},
		{backend: "thang", want: "still silent"},
		{backend: "tfail", want: "no progress: 0 ops"},
	}
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			o := testCellOptions(t, tt.backend, CellSpec{Workers: 2, Locks: 1, Timing: Timing{Duration: 200 * time.Millisecond}})
			if tt.backend == "thang" {
				o.Grace = time.Second // the hang is certain; do not wait the default
			}
			c := RunCell(context.Background(), o)
			if !strings.Contains(c.Failed, tt.want) {
				t.Fatalf("Failed = %q, want it to mention %q", c.Failed, tt.want)
			}
		})
	}
}

// A cell with no ops, or too few per worker, is not a result: it is not failed (a slow backend
// is a finding), but it says why and is never shown as a number. A tail is conclusive only when
// every worker made the minimum.
func TestRunCellHonest(t *testing.T) {
	tests := []struct {
		backend      string
		minOps       int
		insufficient string
		conclusive   bool
	}{
		{backend: "tstall", insufficient: "no worker completed an op"},
		{backend: "tslow", insufficient: "below the minimum of 20 per worker"},
		{backend: "tflock", minOps: 5, conclusive: true},
	}
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			o := testCellOptions(t, tt.backend, CellSpec{Workers: 2, Locks: 1, Timing: Timing{Duration: 300 * time.Millisecond},
				MinOps: tt.minOps})
			c := RunCell(context.Background(), o)
			if c.Failed != "" {
				t.Fatalf("failed: %s", c.Failed)
			}
			if !strings.Contains(c.Insufficient, tt.insufficient) || (tt.insufficient == "") != c.IsResult() {
				t.Fatalf("Insufficient = %q, want %q", c.Insufficient, tt.insufficient)
			}
			if c.Conclusive != tt.conclusive {
				t.Fatalf("Conclusive = %v (per worker %v, min %d)", c.Conclusive, c.PerWorkerOps, c.MinOpsPerWorker)
			}
			var out bytes.Buffer
			WriteSummary(&out, &Run{Cells: []Cell{c}})
			if !c.IsResult() && !strings.Contains(out.String(), "insufficient ops") {
				t.Fatalf("summary hides why:\n%s", out.String())
			}
		})
	}
}

// An ops-sized window ends once the workers have their ops, well before its cap, and the
// throughput is over the window as it ran.
func TestRunCellOpsWindow(t *testing.T) {
	const maxWin = 20 * time.Second
	o := testCellOptions(t, "tflock", CellSpec{Workers: 2, Locks: 1, Timing: Timing{Duration: maxWin}, OpsPerWorker: 300})
	start := time.Now()
	c := RunCell(context.Background(), o)
	if c.Failed != "" || !c.IsResult() {
		t.Fatalf("failed %q insufficient %q", c.Failed, c.Insufficient)
	}
	if c.DurationNs <= 0 || c.DurationNs >= int64(maxWin) || time.Since(start) > maxWin {
		t.Fatalf("window %v of cap %v, cell took %v", time.Duration(c.DurationNs), maxWin, time.Since(start))
	}
	if c.Ops < 600 {
		t.Fatalf("%d ops, want >= 600", c.Ops)
	}
	if want := float64(c.Ops) / time.Duration(c.DurationNs).Seconds(); c.OpsPerSec != want {
		t.Fatalf("ops/s %v, want %v", c.OpsPerSec, want)
	}
}

// Cells with the same backend and worker count reuse the processes; a different count respawns.
func TestRunCellPoolReuse(t *testing.T) {
	o := testCellOptions(t, "ttoken", CellSpec{Workers: 3, Locks: 1, Timing: Timing{Duration: 200 * time.Millisecond}})
	pool := NewPool(o.Command)
	defer pool.Close()
	o.Pool = pool
	for i, tt := range []struct {
		workers, locks int
		reused         bool
	}{{3, 1, false}, {3, 4, true}, {2, 4, false}} {
		o.Spec.Workers, o.Spec.Locks, o.Spec.Index = tt.workers, tt.locks, i
		c := RunCell(context.Background(), o)
		if c.Failed != "" || c.Violations != 0 || c.Ops == 0 {
			t.Fatalf("cell %d: failed %q, %d violations, %d ops", i, c.Failed, c.Violations, c.Ops)
		}
		if c.WorkersReused != tt.reused {
			t.Fatalf("cell %d: reused = %v, want %v", i, c.WorkersReused, tt.reused)
		}
	}
	pool.Close()
	if live := liveTestWorkers(); len(live) > 0 {
		t.Fatalf("pool.Close left workers running: %v", live)
	}
}
