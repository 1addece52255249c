package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wwly/wwly/runfile"
)

// goalRatio is issue 7's bar: the harness's futex-fifo cell reaches this fraction of the floor.
const goalRatio = 0.8

// alternate runs `wwly bench` (the yardstick scenario, at o's W and window) and the floor in
// turn, o.rounds times, printing each round's ratios, then the median ratio per W.
func alternate(out io.Writer, self string, o options) error {
	ratios := map[int][]float64{}
	for r := range o.rounds {
		dir := filepath.Join(o.out, fmt.Sprintf("r%d", r+1))
		ws := make([]string, len(o.workers))
		for i, w := range o.workers {
			ws[i] = strconv.Itoa(w)
		}
		cmd := exec.Command(o.wwly, "bench", "--scenario", "yardstick", "--workers", strings.Join(ws, ","),
			"--duration", o.duration.String(), "--warmup", o.warmup.String(), "--out", dir)
		cmd.Stderr = os.Stderr
		if b, err := cmd.Output(); err != nil {
			return fmt.Errorf("futexfloor: %s: %w\n%s", strings.Join(cmd.Args, " "), err, b)
		}
		fmt.Fprintf(out, "round %d of %d\n", r+1, o.rounds)
		var floor []result
		for _, w := range o.workers {
			f, err := measure(self, w, o.warmup, o.duration)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "futexfloor W=%d: %s ops/s, p50 %v, p99 %v\n", w, rate(f.opsPerSec), f.p50, f.p99)
			floor = append(floor, f)
		}
		got, err := compare(out, filepath.Join(dir, "run.json"), floor)
		if err != nil {
			return err
		}
		for w, x := range got {
			ratios[w] = append(ratios[w], x)
		}
	}
	for _, w := range o.workers {
		xs := ratios[w]
		if len(xs) == 0 {
			fmt.Fprintf(out, "yardstick W=%d: no ratio (no harness result in any round)\n", w)
			continue
		}
		slices.Sort(xs)
		fmt.Fprintf(out, "yardstick W=%d: median over %d rounds: wwly bench futex-fifo = %.2f× the floor's ops/s (goal ≥ %.1f×)\n",
			w, len(xs), xs[len(xs)/2], goalRatio)
	}
	return nil
}

// compare prints, for each W measured here, the run's futex-fifo cell on one lock as a fraction
// of the floor. It reports, it does not judge: on a shared box the ratio moves with the load.
func compare(out io.Writer, path string, floor []result) (map[int]float64, error) {
	r, err := runfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("futexfloor: -against: %w", err)
	}
	ratios := map[int]float64{}
	for _, f := range floor {
		c := findCell(r, f.workers)
		switch {
		case c == nil:
			fmt.Fprintf(out, "yardstick W=%d: no futex-fifo L=1 cell in %s\n", f.workers, path)
		case !c.IsResult():
			fmt.Fprintf(out, "yardstick W=%d: the harness's cell is not a result: %s\n", f.workers, c.Status())
		default:
			ratio := c.OpsPerSec / f.opsPerSec
			ratios[f.workers] = ratio
			verdict := "meets"
			if ratio < goalRatio {
				verdict = "below"
			}
			fmt.Fprintf(out, "yardstick W=%d: wwly bench futex-fifo %s ops/s p99 %v = %.2f× the floor's ops/s (%s the %.1f× goal), p99 %.2f× the floor's\n",
				f.workers, rate(c.OpsPerSec), time.Duration(c.Latency.P99).Round(time.Microsecond), ratio, verdict, goalRatio,
				float64(c.Latency.P99)/float64(max(f.p99, 1)))
		}
	}
	return ratios, nil
}

func findCell(r *runfile.Run, w int) *runfile.Cell {
	for i := range r.Cells {
		c := &r.Cells[i]
		if c.Backend == "futex-fifo" && c.Workers == w && c.Locks == 1 {
			return c
		}
	}
	return nil
}
