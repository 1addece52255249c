package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/bench/scenarios"
	"github.com/wwly/wwly/gate"
	"github.com/wwly/wwly/tune"
)

// tuneOptions are the flags of `wwly tune`.
type tuneOptions struct {
	bin        string
	scenario   string
	out        string
	serverArgs string
	lists      map[string]*string // swept tunable -> comma list ("" = not swept)
	sets       []string
	slack      float64
	verbose    bool
	bench      benchFlags
}

// tuneSwept are the tunables with their own flags, in grid order.
var tuneSwept = []struct{ name, help string }{
	{"loops", "event loops, e.g. 1,2"},
	{"queue-cap", "per-name waiter queue capacity, e.g. 8,64"},
	{"flush-batch", "replies per flush, e.g. 1,16,128"},
	{"flush-interval", "flush interval, e.g. 0,50us"},
	{"handoff", "handoff policy, e.g. fifo,barge:4,barge:64 (add futex-fifo to --backends for ratios to it)"},
}

func newTuneCmd() *cobra.Command {
	o := &tuneOptions{lists: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "tune",
		Short: "Sweep wwly server tunables over a scenario; print the Pareto front of ops/s vs p99 and a recommendation",
		Long: `tune runs the scenario once per configuration of the cross product of the given value lists
(each a comma list; a tunable not given is not swept), each as one "wwly bench --server-args ...",
and writes tune.json and tune.md to --out. For each lock cell it computes the Pareto front of
throughput (up) against p99 latency (down) and recommends the configuration with the highest
ops/s among the Pareto points whose p99 is at most --p99-slack times the best p99.

Exit status: 0 done, 2 error (no configuration measured, or a run failed or broke mutual exclusion;
the others are still reported).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := tuneRun(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.bin, "bin", "", "wwly binary to run bench with (default: this one)")
	fs.StringVar(&o.scenario, "scenario", "gate", "bench scenario: a YAML file, or the name of an embedded one ("+strings.Join(scenarios.Names(), ", ")+")")
	fs.StringVar(&o.out, "out", "", "output directory (default results/tune/<UTC time>)")
	fs.StringVar(&o.serverArgs, "server-args", "", "fixed server args added to every configuration")
	for _, t := range tuneSwept {
		o.lists[t.name] = fs.String(t.name, "", "sweep --"+t.name+": "+t.help)
	}
	fs.StringArrayVar(&o.sets, "set", nil, "sweep any other tunable: name=v1,v2 (repeatable)")
	fs.Float64Var(&o.slack, "p99-slack", tune.DefaultP99Slack, "recommendation rule: p99 allowance over the best p99")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "show the bench subprocesses' output")
	o.bench.register(fs)
	return cmd
}

// errTuneRuns marks a sweep in which some configuration failed.
var errTuneRuns = errors.New("tune: some configurations failed")

// params collects the swept tunables in flag order, then --set ones.
func (o *tuneOptions) params() ([]tune.Param, error) {
	var ps []tune.Param
	for _, t := range tuneSwept {
		if s := *o.lists[t.name]; s != "" {
			vals, err := tune.ParseList(s)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", t.name, err)
			}
			ps = append(ps, tune.Param{Name: t.name, Values: vals})
		}
	}
	for _, s := range o.sets {
		p, err := tune.ParseSet(s)
		if err != nil {
			return nil, fmt.Errorf("--set: %w", err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func tuneRun(ctx context.Context, o *tuneOptions, stdout, stderr io.Writer) error {
	if !(o.slack >= 1) {
		return fmt.Errorf("--p99-slack %v: must be >= 1: %w", o.slack, tune.ErrBadParam)
	}
	params, err := o.params()
	if err != nil {
		return err
	}
	grid, err := tune.Grid(params)
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join("results", "tune", time.Now().UTC().Format("20060102T150405Z"))
	}
	if o.bin == "" {
		if o.bin, err = os.Executable(); err != nil {
			return fmt.Errorf("tune: %w", err)
		}
	}
	var benchOut io.Writer
	if o.verbose {
		benchOut = stderr
	}
	scenarioPath, err := scenarioFileIn(o.scenario, o.out)
	if err != nil {
		return err
	}
	b := gate.BenchCmd{Bin: o.bin, Scenario: scenarioPath, ServerArgs: o.serverArgs, Extra: o.bench.args(), Output: benchOut}
	fmt.Fprintf(stdout, "tune: %d configurations, scenario %s, bench: %s bench --out DIR %v --server-args ...\n",
		len(grid), o.scenario, o.bin, b.Args("DIR")[3:])
	res, err := tune.Sweep(ctx, params, grid, o.slack, tune.ExecRunner(b, filepath.Join(o.out, "runs")), stdout)
	res.Scenario = o.scenario
	if werr := tune.WriteFiles(o.out, res); werr != nil {
		return errors.Join(err, werr)
	}
	fmt.Fprintln(stdout)
	if merr := tune.WriteMarkdown(stdout, res); merr != nil {
		return errors.Join(err, merr)
	}
	fmt.Fprintf(stdout, "\ntune: wrote %s and %s\n", filepath.Join(o.out, "tune.json"), filepath.Join(o.out, "tune.md"))
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range res.Runs {
		if r.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d configurations: %w", failed, len(res.Runs), errTuneRuns)
	}
	return nil
}
