package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wwly/wwly/bench/scenarios"
	"github.com/wwly/wwly/gate"
	"github.com/wwly/wwly/loadgen"
)

// benchFlags are `wwly bench` flags that gate and tune pass through when given.
type benchFlags struct {
	backends, workers, locks, duration, warmup, repeat string
	extra                                              []string
}

func (b *benchFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&b.backends, "backends", "", "passed to bench --backends (comma list)")
	fs.StringVar(&b.workers, "workers", "", "passed to bench --workers (comma list)")
	fs.StringVar(&b.locks, "locks", "", "passed to bench --locks (comma list)")
	fs.StringVar(&b.duration, "duration", "", "passed to bench --duration (per cell)")
	fs.StringVar(&b.warmup, "warmup", "", "passed to bench --warmup")
	fs.StringVar(&b.repeat, "repeat", "", "passed to bench --repeat")
	fs.StringArrayVar(&b.extra, "bench-arg", nil, "extra argument passed verbatim to bench (repeatable)")
}

// args returns the bench flags that were set, in a fixed order.
func (b *benchFlags) args() []string {
	var out []string
	for _, kv := range []struct{ name, val string }{
		{"backends", b.backends}, {"workers", b.workers}, {"locks", b.locks},
		{"duration", b.duration}, {"warmup", b.warmup}, {"repeat", b.repeat},
	} {
		if kv.val != "" {
			out = append(out, "--"+kv.name+"="+kv.val)
		}
	}
	return append(out, b.extra...)
}

// gateOptions are the flags of `wwly gate`.
type gateOptions struct {
	repo           string
	baseRef        string
	baseBin        string
	candBin        string
	baseServerArgs string
	candServerArgs string
	baseline       string
	runDir         string
	scenario       string
	out            string
	pairs          int
	seed           uint64
	threshold      float64
	alpha          float64
	noRerun        bool
	retryFailed    int
	timeout        time.Duration
	verbose        bool
	bench          benchFlags

	// set by the command from which flags were given
	baseRefSet, configMode bool
}

func newGateCmd() *cobra.Command {
	o := &gateOptions{}
	cmd := &cobra.Command{
		Use:   "gate",
		Short: "Decide whether a candidate is slower than a base (A/B with paired statistics, or against a baseline run)",
		Long: `gate runs the same small scenario (default: the embedded "gate") for a base and a
candidate in randomized, balanced AB/BA order for --pairs pairs, and judges p50, p90 and ops/s
(p99 and max are shown, not gated) from the per-pair ratios. A metric regresses only when the
one-sided Wilcoxon signed-rank p < --alpha AND the median slowdown >= --threshold AND the
bootstrap 95% CI of the median ratio excludes 1. On a regression the whole A/B is rerun once;
the gate fails only if both attempts regress.

With the exact Wilcoxon distribution n pairs can never give p below 1/2^n, so p < 0.01 needs at
least 7 pairs; the default of 8 tolerates one pair out of line (p = 2/256).

Base and candidate:
  default                     base = --base-ref (HEAD~1) built with git archive + go build,
                              candidate = the working tree at --repo built with go build
  --base-bin / --cand-bin     two given binaries
  --base-server-args /        one binary (--cand-bin, else this one) with two server
  --cand-server-args          configurations
  --baseline DIR              one candidate run (--run DIR, or run now) against a committed
                              baseline run, normalized by each run's tcp-echo floor; no p-value
                              (one run each gives no noise estimate): use --repeat N (medians)
                              and a wider --threshold on a busy machine

Exit status: 0 pass, 1 regression, 2 error (a failed cell or a mutual-exclusion violation is an
error; --retry-failed N repeats a failed run, never one with a violation). The table goes to
stdout and gate.json to --out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.baseRefSet = cmd.Flags().Changed("base-ref")
			o.configMode = cmd.Flags().Changed("base-server-args") || cmd.Flags().Changed("cand-server-args")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			code, err := gateRun(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if code == gate.ExitPass {
				return nil
			}
			return &exitError{code: code, err: err}
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.repo, "repo", ".", "repository (module root) to build the base ref and the working tree from")
	fs.StringVar(&o.baseRef, "base-ref", "HEAD~1", "git ref built as the base")
	fs.StringVar(&o.baseBin, "base-bin", "", "base wwly binary (instead of building --base-ref)")
	fs.StringVar(&o.candBin, "cand-bin", "", "candidate wwly binary (instead of building the working tree)")
	fs.StringVar(&o.baseServerArgs, "base-server-args", "", "server tunables for the base (bench --server-args)")
	fs.StringVar(&o.candServerArgs, "cand-server-args", "", "server tunables for the candidate (bench --server-args)")
	fs.StringVar(&o.baseline, "baseline", "", "baseline mode: committed baseline run directory (e.g. results/baseline)")
	fs.StringVar(&o.runDir, "run", "", "baseline mode: an existing candidate run directory instead of running one")
	fs.StringVar(&o.scenario, "scenario", "gate", "bench scenario: a YAML file, or the name of an embedded one ("+strings.Join(scenarios.Names(), ", ")+")")
	fs.StringVar(&o.out, "out", "", "output directory (default results/gate/<UTC time>)")
	fs.IntVar(&o.pairs, "pairs", gate.DefaultPairs, "A/B pairs per attempt (p < 0.01 needs >= 7)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed for the pair order and the bootstrap (0: from the clock; printed)")
	fs.Float64Var(&o.threshold, "threshold", gate.DefaultCriteria().Threshold, "minimum median slowdown that counts (0.10 = 10%)")
	fs.Float64Var(&o.alpha, "alpha", gate.DefaultCriteria().Alpha, "one-sided significance level")
	fs.BoolVar(&o.noRerun, "no-rerun", false, "do not rerun the A/B once after a regression")
	fs.IntVar(&o.retryFailed, "retry-failed", 0, "repeat a bench run that failed (not by a violation) up to this many times before giving up with exit 2")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up (exit 2) after this long; 0: no limit")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "show the bench subprocesses' output")
	o.bench.register(fs)
	return cmd
}

// errGateUsage marks inconsistent flags.
var errGateUsage = errors.New("gate: bad flags")

// gateRun runs the gate and returns its exit status and, for a non-zero one, the reason.
func gateRun(ctx context.Context, o *gateOptions, stdout, stderr io.Writer) (int, error) {
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if o.out == "" {
		o.out = filepath.Join("results", "gate", time.Now().UTC().Format("20060102T150405Z"))
	}
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	crit := gate.DefaultCriteria()
	crit.Threshold, crit.Alpha = o.threshold, o.alpha
	rep := &gate.Report{Schema: gate.ReportSchema, Started: time.Now().UTC(), Scenario: o.scenario, Criteria: crit}
	code, err := gateDo(ctx, o, rep, stdout, stderr)
	if code == gate.ExitError {
		rep.Verdict = gate.VerdictError
	}
	if err != nil {
		rep.Error = err.Error()
	}
	rep.Exit = code
	if werr := rep.WriteJSON(o.out); werr != nil {
		fmt.Fprintln(stderr, "gate:", werr)
		if code == gate.ExitPass {
			return gate.ExitError, werr
		}
	}
	fmt.Fprintf(stdout, "gate: verdict %s (exit %d); report %s\n", rep.Verdict, code, filepath.Join(o.out, "gate.json"))
	return code, err
}

func gateDo(ctx context.Context, o *gateOptions, rep *gate.Report, stdout, stderr io.Writer) (int, error) {
	if err := rep.Criteria.Validate(); err != nil {
		return gate.ExitError, err
	}
	var benchOut io.Writer
	if o.verbose {
		benchOut = stderr
	}
	self, err := os.Executable()
	if err != nil {
		return gate.ExitError, fmt.Errorf("gate: %w", err)
	}
	// The bench subprocesses get a file: a base build may predate the embedded scenarios.
	if o.scenario, err = scenarioFileIn(o.scenario, o.out); err != nil {
		return gate.ExitError, err
	}
	if o.baseline != "" {
		return gateBaseline(ctx, o, rep, self, benchOut, stdout)
	}
	if o.runDir != "" {
		return gate.ExitError, fmt.Errorf("--run needs --baseline: %w", errGateUsage)
	}
	if o.configMode && o.baseServerArgs == o.candServerArgs && o.baseBin == "" && !o.baseRefSet {
		fmt.Fprintln(stdout, "gate: note: base and candidate server args are identical (an A/A run)")
	}
	if minP := math.Ldexp(1, -o.pairs); minP >= o.alpha {
		fmt.Fprintf(stdout, "gate: WARNING: with %d pairs the smallest possible p is %.3g >= alpha %g: this gate cannot fail\n", o.pairs, minP, o.alpha)
	}
	baseBin, candBin, cleanup, err := gateBinaries(ctx, o, self, stdout)
	defer cleanup()
	if err != nil {
		return gate.ExitError, err
	}
	rep.Mode, rep.Seed, rep.Pairs = "ab", o.seed, o.pairs
	// Built binaries live in a temporary directory: describe them by their source.
	sameBin := o.configMode && !o.baseRefSet
	baseDesc, candDesc := baseBin, candBin
	if o.baseBin == "" && !sameBin {
		baseDesc = fmt.Sprintf("%s of %s (built)", o.baseRef, o.repo)
	}
	if o.candBin == "" && !sameBin {
		candDesc = fmt.Sprintf("working tree %s (built)", o.repo)
	}
	rep.Base = describeArm(baseDesc, o.baseServerArgs)
	rep.Cand = describeArm(candDesc, o.candServerArgs)
	extra := o.bench.args()
	base := gate.BenchCmd{Bin: baseBin, Scenario: o.scenario, ServerArgs: o.baseServerArgs, Extra: extra, Output: benchOut}
	cand := gate.BenchCmd{Bin: candBin, Scenario: o.scenario, ServerArgs: o.candServerArgs, Extra: extra, Output: benchOut}
	fmt.Fprintf(stdout, "gate: A/B, base %s, candidate %s\n", rep.Base, rep.Cand)
	fmt.Fprintf(stdout, "gate: scenario %s, %d pairs, seed %d (replay with --seed %d), threshold %.0f%%, alpha %g, bench: %s bench --out DIR %v\n",
		o.scenario, o.pairs, o.seed, o.seed, 100*o.threshold, o.alpha, baseBin, base.Args("DIR")[3:])
	cfg := gate.DefaultABConfig(o.seed)
	cfg.Pairs, cfg.Criteria, cfg.Rerun, cfg.RetryFailed, cfg.Log = o.pairs, rep.Criteria, !o.noRerun, o.retryFailed, stdout
	res, err := gate.RunAB(ctx, cfg, gate.ExecRunner(base, cand, filepath.Join(o.out, "runs")))
	rep.AB = &res
	for i, at := range res.Attempts {
		fmt.Fprintf(stdout, "\ngate: attempt %d (seed %d, orders %v)\n", i+1, at.Seed, at.Orders)
		if err := gate.WriteTable(stdout, at.Metrics, false); err != nil {
			return gate.ExitError, err
		}
		for _, s := range at.Skipped {
			fmt.Fprintln(stdout, "gate: skipped:", s)
		}
		for _, s := range at.Retried {
			fmt.Fprintln(stdout, "gate: retried after a failure:", s)
		}
	}
	if err != nil {
		return gate.ExitError, err
	}
	rep.Verdict = res.Verdict
	if res.Verdict == gate.Regression {
		last := res.Attempts[len(res.Attempts)-1]
		return gate.ExitRegression, fmt.Errorf("gate: regression in %d attempt(s): %v", len(res.Attempts), last.Regressed)
	}
	return gate.ExitPass, nil
}

// gateBinaries resolves (building when needed) the base and candidate binaries. Built binaries
// and exported sources live in a temporary directory that cleanup removes; cleanup is never nil.
func gateBinaries(ctx context.Context, o *gateOptions, self string, stdout io.Writer) (baseBin, candBin string, cleanup func(), err error) {
	cleanup = func() {}
	candBin, baseBin = o.candBin, o.baseBin
	if o.configMode && !o.baseRefSet {
		// One binary, two server configurations: both arms default to this binary.
		if candBin == "" {
			candBin = self
		}
		if baseBin == "" {
			baseBin = candBin
		}
	}
	if candBin != "" && baseBin != "" {
		return baseBin, candBin, cleanup, nil
	}
	tmp, err := os.MkdirTemp("", "wwly-gate-")
	if err != nil {
		return "", "", cleanup, fmt.Errorf("gate: %w", err)
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if candBin == "" {
		candBin = filepath.Join(tmp, "wwly-cand")
		fmt.Fprintf(stdout, "gate: building the working tree %s -> %s\n", o.repo, candBin)
		if err := gate.BuildTree(ctx, o.repo, candBin); err != nil {
			return "", "", cleanup, err
		}
	}
	if baseBin == "" {
		baseBin = filepath.Join(tmp, "wwly-base")
		fmt.Fprintf(stdout, "gate: building %s of %s -> %s\n", o.baseRef, o.repo, baseBin)
		if err := gate.BuildRef(ctx, o.repo, o.baseRef, tmp, baseBin); err != nil {
			return "", "", cleanup, err
		}
	}
	return baseBin, candBin, cleanup, nil
}

func describeArm(bin, serverArgs string) string {
	if serverArgs == "" {
		return bin
	}
	return fmt.Sprintf("%s --server-args %q", bin, serverArgs)
}

// gateBaseline compares one candidate run with the committed baseline run.
func gateBaseline(ctx context.Context, o *gateOptions, rep *gate.Report, self string, benchOut, stdout io.Writer) (int, error) {
	rep.Mode, rep.Base = "baseline", o.baseline
	baseCells, err := gate.LoadCells(o.baseline)
	if err != nil {
		return gate.ExitError, fmt.Errorf("baseline: %w", err)
	}
	var candCells []gate.Cell
	if o.runDir != "" {
		rep.Cand = o.runDir
		if candCells, err = gate.LoadCells(o.runDir); err != nil {
			return gate.ExitError, fmt.Errorf("candidate run: %w", err)
		}
	} else {
		bin := o.candBin
		if bin == "" {
			bin = self
		}
		b := gate.BenchCmd{Bin: bin, Scenario: o.scenario, ServerArgs: o.candServerArgs, Extra: o.bench.args(), Output: benchOut}
		dir := filepath.Join(o.out, "runs", "cand")
		rep.Cand = describeArm(bin, o.candServerArgs) + " -> " + dir
		fmt.Fprintf(stdout, "gate: running the candidate: %s %v\n", bin, b.Args(dir))
		if candCells, err = b.Run(ctx, dir); err != nil {
			return gate.ExitError, err
		}
	}
	fmt.Fprintf(stdout, "gate: baseline mode, %s vs %s; values are multiples of the same run's tcp-echo floor; threshold %.0f%%; no p-value or CI (one run against one run gives no estimate of the noise)\n",
		rep.Base, rep.Cand, 100*o.threshold)
	res, err := gate.CompareBaseline(baseCells, candCells, o.threshold)
	if err != nil {
		return gate.ExitError, err
	}
	rep.Baseline = &res
	if err := gate.WriteTable(stdout, res.Metrics, true); err != nil {
		return gate.ExitError, err
	}
	rep.Verdict = res.Verdict
	if res.Verdict == gate.Regression {
		return gate.ExitRegression, fmt.Errorf("gate: regression against the baseline: %v", res.Regressed)
	}
	return gate.ExitPass, nil
}

// scenarioFileIn resolves a --scenario argument (a file, or an embedded scenario's name) to a
// file a `wwly bench` subprocess of any build can read, writing an embedded one into dir.
func scenarioFileIn(arg, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("--scenario: %w", err)
	}
	p, err := loadgen.ScenarioFile(arg, dir)
	if err != nil {
		return "", fmt.Errorf("--scenario: %w", err)
	}
	return p, nil
}
