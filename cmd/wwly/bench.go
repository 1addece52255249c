package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/bench/scenarios"
	"github.com/wwly/wwly/loadgen"
)

// Exit codes of `wwly bench`.
const (
	benchExitFailed  = exitFailed   // a cell failed or an exclusive backend violated mutual exclusion
	benchExitUsage   = exitUsage    // bad flags or scenario
	benchExitControl = exitUnproven // the none control showed no violation: the checker was not proven
)

// benchOptions is `wwly bench`'s parsed command line.
type benchOptions struct {
	scenario   string
	backends   string
	workers    string
	locks      string
	hold       time.Duration
	duration   time.Duration
	warmup     time.Duration
	opsPerWkr  int
	maxDur     time.Duration
	minOps     int
	rate       float64
	repeat     int
	seed       int64
	out        string
	serverArgs string
	wwlyAddr   string
	redisAddr  string
	etcdEnds   string

	changed func(name string) bool
	stdout  io.Writer
}

func newBenchCmd() *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure lock backends with many worker processes and check mutual exclusion",
		Long: `bench runs a scenario (the cross product of backends × workers × locks, repeated), each
cell with W worker OS processes started at one instant. It writes run.json and one HdrHistogram
interval log per cell to --out (default results/<run-id>/, and results/latest points there),
and prints a summary table. Every run checks mutual exclusion in shared memory; it exits non-zero
when a lock backend violated it or a cell failed (exit 2), and when the none control (no lock)
was not caught violating it (exit 3); bad flags or scenario exit 64 ('wwly help exit-codes').`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.changed = func(n string) bool { return cmd.Flags().Changed(n) }
			o.stdout = cmd.OutOrStdout()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return benchRun(ctx, o)
		},
	}
	bindBenchFlags(cmd.Flags(), o)
	cmd.AddCommand(newBenchFailoverCmd())
	return cmd
}

// bindBenchFlags declares bench's flags on f, parsing into o.
func bindBenchFlags(f *pflag.FlagSet, o *benchOptions) {
	f.StringVar(&o.scenario, "scenario", "", "scenario: a YAML file, or the name of an embedded one ("+strings.Join(scenarios.Names(), ", ")+"); flags below override it")
	f.StringVar(&o.backends, "backends", "", "comma-separated backends (have: "+strings.Join(bench.Names(), ", ")+")")
	f.StringVar(&o.workers, "workers", "", "comma-separated worker counts, e.g. 1,8,64")
	f.StringVar(&o.locks, "locks", "", "comma-separated lock-name counts, e.g. 1,64")
	f.DurationVar(&o.hold, "hold", 0, "time each worker holds the lock")
	f.DurationVar(&o.duration, "duration", 0, "measured window per cell")
	f.DurationVar(&o.warmup, "warmup", 0, "unrecorded warm-up per cell")
	f.IntVar(&o.opsPerWkr, "ops-per-worker", 0, "size each window by work: end it once the workers made this many ops each on average (needs --max-duration; --duration is then the minimum window)")
	f.DurationVar(&o.maxDur, "max-duration", 0, "cap of an ops-sized window")
	f.IntVar(&o.minOps, "min-ops", 0, "fewest measured ops per worker for a cell to be a result (default 20)")
	f.Float64Var(&o.rate, "rate", 0, "open loop: ops/s per worker (0 = closed loop)")
	f.IntVar(&o.repeat, "repeat", 0, "times to run each cell")
	f.Int64Var(&o.seed, "seed", 0, "random seed (0 = pick one and print it)")
	f.StringVar(&o.out, "out", "", "output directory (default results/<run-id>)")
	f.StringVar(&o.serverArgs, "server-args", "", `extra wwly server flags, e.g. "--flush-batch=64"`)
	f.StringVar(&o.wwlyAddr, "wwly-addr", "", "use a running wwly server instead of starting one")
	f.StringVar(&o.redisAddr, "redis-addr", "", "use a running Redis instead of starting one")
	f.StringVar(&o.etcdEnds, "etcd-endpoints", "", "use a running etcd (comma-separated endpoints)")
}

// scenarioFrom loads the scenario and applies the flags that were given.
func (o *benchOptions) scenarioFrom() (loadgen.Scenario, error) {
	sc := loadgen.DefaultScenario()
	if o.scenario != "" {
		var err error
		if sc, err = loadgen.LoadScenario(o.scenario); err != nil {
			return sc, err
		}
	}
	changed := o.changed
	if changed == nil {
		changed = func(string) bool { return false }
	}
	var err error
	if changed("backends") {
		sc.Backends = loadgen.ParseNameList(o.backends)
	}
	if changed("workers") {
		if sc.Workers, err = loadgen.ParseIntList(o.workers); err != nil {
			return sc, fmt.Errorf("--workers: %w", err)
		}
	}
	if changed("locks") {
		if sc.Locks, err = loadgen.ParseIntList(o.locks); err != nil {
			return sc, fmt.Errorf("--locks: %w", err)
		}
	}
	if changed("hold") {
		sc.Hold = loadgen.Duration(o.hold)
	}
	if changed("duration") {
		sc.Duration, sc.OpsPerWorker = loadgen.Duration(o.duration), 0 // a fixed window replaces an ops-sized one
	}
	if changed("ops-per-worker") {
		sc.OpsPerWorker = o.opsPerWkr
		if !changed("duration") {
			sc.Duration = 0 // the scenario's fixed window is not a minimum the user asked for
		}
	}
	if changed("max-duration") {
		sc.MaxDuration = loadgen.Duration(o.maxDur)
	}
	if changed("min-ops") {
		sc.MinOpsPerWorker = o.minOps
	}
	if changed("warmup") {
		sc.Warmup = loadgen.Duration(o.warmup)
	}
	if changed("rate") {
		sc.Rate = o.rate
	}
	if changed("repeat") {
		sc.Repeat = o.repeat
	}
	if changed("seed") {
		sc.Seed = o.seed
	}
	if changed("server-args") {
		sc.ServerArgs = strings.Fields(o.serverArgs)
	}
	if sc.Repeat == 0 {
		sc.Repeat = 1
	}
	return sc, sc.Validate()
}

func (o *benchOptions) addrs() map[string]string {
	a := map[string]string{}
	for k, v := range map[string]string{"wwly": o.wwlyAddr, "redis": o.redisAddr, "etcd": o.etcdEnds} {
		if v != "" {
			a[k] = v
		}
	}
	return a
}

func benchRun(ctx context.Context, o *benchOptions) error {
	sc, err := o.scenarioFrom()
	if err != nil {
		return &exitError{code: benchExitUsage, err: err}
	}
	out := o.stdout
	if out == nil {
		out = os.Stdout
	}
	_, err = loadgen.RunScenario(ctx, loadgen.Options{
		Scenario: sc,
		OutDir:   o.out,
		Addrs:    o.addrs(),
		Lookup:   bench.Lookup,
		Reporter: loadgen.NewReporter(out),
		Out:      out,
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, loadgen.ErrControlClean):
		fmt.Fprintf(out, "\x1b[1;31mFAIL: %v\x1b[0m\n", err)
		return &exitError{code: benchExitControl}
	case errors.Is(err, loadgen.ErrFailed):
		fmt.Fprintf(out, "\x1b[1;31mFAIL: %v\x1b[0m\n", err)
		return &exitError{code: benchExitFailed}
	case errors.Is(err, loadgen.ErrScenario):
		return &exitError{code: benchExitUsage, err: err}
	default:
		return &exitError{code: benchExitFailed, err: err}
	}
}
