package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/wwly/wwly/loadgen"
)

// synthOptions shape a synthetic run: which backends, worker counts, and the cells that fail
// or are skipped, so tests can cover every branch of the renderer.
type synthOptions struct {
	Seed      uint64
	Backends  []string
	Workers   []int
	Locks     []int   // default [1]
	Rate      float64 // > 0: open loop at this rate per worker
	Repeat    int
	Intervals int
	// IntervalMs is the length of one hlog interval (the harness uses 100 ms for short cells).
	IntervalMs int64
	// Stalls maps "backend/workers" to the first of two intervals in which no op completes.
	Stalls map[string]int
	// Skipped maps a backend to the reason it did not run.
	Skipped map[string]string
	// Failed maps "backend/workers" to the reason the cell failed.
	Failed map[string]string
	// Violations maps "backend/workers" to a violation count.
	Violations map[string]int64
}

func defaultSynth(seed uint64) synthOptions {
	return synthOptions{
		Seed:       seed,
		Backends:   []string{"wwly", "flock", "redis", "etcd", "tcp-echo"},
		Workers:    []int{1, 8, 64},
		Repeat:     1,
		Intervals:  3,
		Skipped:    map[string]string{"etcd": "etcd not found in PATH"},
		Failed:     map[string]string{"redis/64": "worker 17 exited: signal: killed"},
		Violations: map[string]int64{},
	}
}

// sampleSynth shapes the committed sample run (testdata/run): the default run with the
// harness's 100 ms intervals over a 1.5 s window, and one stall, so throughput over time has
// something to show.
func sampleSynth() synthOptions {
	o := defaultSynth(goldenSeed)
	o.Intervals, o.IntervalMs = 15, 100
	o.Stalls = map[string]int{"wwly/64": 6}
	return o
}

// synthModel is a made-up but plausible cost model per backend: median acquire latency
// at one worker, growth with workers, throughput at one worker, and fairness.
var synthModel = map[string]struct {
	medianNs float64
	ops1     float64
	jain     float64
}{
	"wwly":     {35_000, 14_000, 0.999},
	"flock":    {400, 1_500_000, 0.93},
	"redis":    {60_000, 9_000, 0.97},
	"etcd":     {900_000, 800, 0.99},
	"tcp-echo": {30_000, 15_000, 0.999},
}

// writeSynthRun writes a run directory (run.json and one .hlog per cell that ran) from a
// seeded generator: the same options always give byte-identical files.
func writeSynthRun(t testing.TB, dir string, o synthOptions) {
	t.Helper()
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	started := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	run := loadgen.Run{
		Schema:  loadgen.SchemaVersion,
		ID:      fmt.Sprintf("synthetic-seed-%d", o.Seed),
		Started: started,
		Machine: loadgen.Machine{
			Hostname: "synth", OS: "linux", Arch: "amd64", CPUs: 2,
			CPUModel: "Synthetic CPU @ 2.0GHz", MemBytes: 4 << 30, Kernel: "6.1.0-synthetic",
		},
		Versions: map[string]string{"go": "go1.26.0", "wwly": "dev", "redis-server": "7.0.15", "etcd": "3.4.30"},
		Commit:   "0123456789abcdef0123456789abcdef01234567",
		Config: loadgen.Scenario{
			Name: "synthetic", Backends: o.Backends, Workers: o.Workers, Locks: []int{1},
			Hold: 0, Duration: loadgen.Duration(o.window()),
			Warmup: loadgen.Duration(time.Second), Repeat: o.Repeat,
		},
	}
	locks := o.Locks
	if len(locks) == 0 {
		locks = []int{1}
	}
	run.Config.Locks = locks
	run.Config.Rate = o.Rate
	mode := "closed"
	if o.Rate > 0 {
		mode = "open"
	}
	for _, w := range o.Workers {
		for _, nl := range locks {
			for r := 1; r <= o.Repeat; r++ {
				for _, b := range o.Backends {
					c := synthCell(t, dir, rng, o, b, w, nl, r, mode, started)
					c.Judge(run.Config.MinOps()) // as loadgen does: the cell says whether it is a result
					run.Cells = append(run.Cells, c)
				}
			}
		}
	}
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, RunFile), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// synthCell makes one cell and, unless its backend is skipped, its hlog.
func synthCell(t testing.TB, dir string, rng *rand.Rand, o synthOptions, b string, w, nl, r int, mode string, started time.Time) loadgen.Cell {
	t.Helper()
	c := loadgen.Cell{Backend: b, Workers: w, Locks: nl, Mode: mode, Rate: o.Rate, Repeat: r}
	if why, ok := o.Skipped[b]; ok {
		c.Skipped = why
		return c
	}
	key := fmt.Sprintf("%s/%d", b, w)
	c.Hlog = fmt.Sprintf("%s-w%d-l%d-r%d.hlog", b, w, nl, r)
	stall, ok := o.Stalls[key]
	if !ok {
		stall = -10
	}
	h := writeSynthHlog(t, filepath.Join(dir, c.Hlog), rng, b, w, o, stall, started)
	c.DurationNs = int64(o.window())
	c.Ops = h.TotalCount()
	c.OpsPerSec = float64(c.Ops) / o.window().Seconds()
	c.Latency = loadgen.Percentiles{
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), Max: h.Max(),
	}
	if mode == "open" {
		u := c.Latency
		u.P99 /= 2
		c.LatencyUncorrected = &u
	}
	c.Jain = math.Round((synthModel[b].jain-float64(w)*0.0004)*1000) / 1000
	c.MaxWaitNs = h.Max()
	c.Violations = o.Violations[key]
	if why, ok := o.Failed[key]; ok {
		c.Failed = why
	}
	return c
}

// window is the measured window of every synthetic cell.
func (o synthOptions) window() time.Duration {
	return time.Duration(int64(o.Intervals)*o.intervalMs()) * time.Millisecond
}

func (o synthOptions) intervalMs() int64 {
	if o.IntervalMs <= 0 {
		return 1000
	}
	return o.IntervalMs
}

// writeSynthHlog writes o.Intervals interval histograms of lognormal latencies and returns
// them merged; intervals stall and stall+1 are empty (a stall). Each interval holds 50 distinct
// samples, each counted many times, so the counts match a realistic throughput while the file
// stays small.
func writeSynthHlog(t testing.TB, path string, rng *rand.Rand, backend string, workers int, o synthOptions, stall int, started time.Time) *hdrhistogram.Histogram {
	t.Helper()
	m := synthModel[backend]
	median := m.medianNs * (1 + float64(workers-1)/4)
	ops := m.ops1 * (1 + math.Log2(float64(workers))/3)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lw := hdrhistogram.NewHistogramLogWriter(f)
	baseMs := started.UnixMilli()
	lw.SetBaseTime(baseMs)
	for _, step := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(baseMs) },
		func() error { return lw.OutputBaseTime(baseMs) },
		lw.OutputLegend,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	all := loadgen.NewHistogram()
	const samples = 50
	ivMs := o.intervalMs()
	for i := range o.Intervals {
		h := loadgen.NewHistogram() // the harness's geometry: 1 µs to 60 s, 3 digits
		perSample := max(int64(ops*float64(ivMs)/1000*(0.9+0.2*rng.Float64())/samples), 1)
		n := samples
		if i == stall || i == stall+1 {
			n = 0
		}
		for range n {
			v := int64(median * math.Exp(0.7*rng.NormFloat64()))
			if err := h.RecordValues(max(v, 1), perSample); err != nil {
				t.Fatal(err)
			}
		}
		h.SetTag(backend)
		h.SetStartTimeMs(baseMs + int64(i)*ivMs)
		h.SetEndTimeMs(baseMs + int64(i+1)*ivMs)
		if err := lw.OutputIntervalHistogram(h); err != nil {
			t.Fatal(err)
		}
		all.Merge(h)
	}
	return all
}
