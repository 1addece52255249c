// Command futexfloor is the yardstick of the harness's own overhead: W processes take turns on
// one strict-FIFO futex ticket lock in shared memory (package futexlock, the very lock behind
// `wwly bench`'s futex-fifo backend) with nothing else in the loop — no exclusion witness, no
// token check, no histogram library, no context, no progress messages — and it prints the
// throughput and acquire latency they reach. `make yardstick` runs it beside `wwly bench
// --scenario yardstick` and prints the harness's fraction of it (-against).
//
// Usage:
//
//	futexfloor [-workers 8,64] [-duration 3s] [-warmup 500ms] [-against results/latest/run.json]
//	futexfloor -wwly bin/wwly -rounds 3 [-workers 8,64] ...
//
// With -wwly it runs both itself, alternating `wwly bench --scenario yardstick` and the floor
// -rounds times, and prints each round's ratio and the median: on a shared box the load moves
// between minutes, and only figures taken side by side compare.
//
// Each process is this binary re-run as a child ("futexfloor child PATH SLOTS"): it maps the
// lock, says "ready", reads the start instant from stdin, loops acquire → release until the end,
// and writes its op count and latency histogram to stdout. Linux only.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// errUsage marks bad flags (exit 2); any other error exits 1.
var errUsage = errors.New("futexfloor: usage")

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		if err := child(os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "futexfloor child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type options struct {
	workers  []int
	duration time.Duration
	warmup   time.Duration
	against  string
	wwly     string
	rounds   int
	out      string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("futexfloor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ws := fs.String("workers", "8,64", "comma-separated process counts")
	o := options{}
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured window per W")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "unrecorded warm-up per W")
	fs.StringVar(&o.against, "against", "", "a wwly bench run.json: print its futex-fifo cells as a fraction of this floor")
	fs.StringVar(&o.wwly, "wwly", "", "a wwly binary: run its yardstick scenario and the floor alternately")
	fs.IntVar(&o.rounds, "rounds", 3, "with -wwly: alternations")
	fs.StringVar(&o.out, "out", "results/yardstick", "with -wwly: where the runs go (round N in rN/)")
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("%w: %w", errUsage, err)
	}
	for f := range strings.SplitSeq(*ws, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 4096 {
			return o, fmt.Errorf("%w: -workers: %q is not a count in 1..4096", errUsage, f)
		}
		o.workers = append(o.workers, n)
	}
	if o.duration <= 0 || o.warmup < 0 || o.rounds < 1 {
		return o, fmt.Errorf("%w: -duration and -rounds must be > 0 and -warmup ≥ 0", errUsage)
	}
	return o, nil
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("futexfloor: %w", err)
	}
	if o.wwly != "" {
		return alternate(out, self, o)
	}
	var results []result
	for _, w := range o.workers {
		r, err := measure(self, w, o.warmup, o.duration)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "futexfloor W=%d: %s ops/s, p50 %v, p99 %v (%d ops in %v)\n",
			w, rate(r.opsPerSec), r.p50, r.p99, r.ops, o.duration)
		results = append(results, r)
	}
	if o.against != "" {
		_, err := compare(out, o.against, results)
		return err
	}
	return nil
}

func rate(v float64) string {
	if v >= 10_000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.0f", v)
}
