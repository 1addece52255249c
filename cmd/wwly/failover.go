package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wwly/wwly/bench"
)

// failoverOptions are the flags of `wwly bench failover`.
type failoverOptions struct {
	backend    string
	trials     int
	warm       time.Duration
	hold       time.Duration
	timeout    time.Duration
	opTimeout  time.Duration
	bin        string
	serverArgs string
	dir        string
}

// failoverBackends are the backends `wwly bench failover` can kill a leader of.
var failoverBackends = []string{"wwly-raft", "etcd3"}

func newBenchFailoverCmd() *cobra.Command {
	o := &failoverOptions{}
	cmd := &cobra.Command{
		Use:   "failover",
		Short: "Kill -9 the leader of a 3-node cluster and time the next grant of a held name",
		Long: `failover runs --trials trials on a replicated backend (` + strings.Join(failoverBackends, ", ") + `). Each
starts a fresh 3-member cluster on loopback, has two clients take turns on one name (each grant
held --hold), kills -9 the leader right after a grant — so the name is held and the other client
waits — and measures the time from the kill to the next grant. It prints each trial, then the
median and the largest. Every trial's history is checked: no two grants overlap, tokens rise.

Exit status: 0 done, 2 a trial failed (no grant within --timeout, or mutual exclusion broken),
64 bad flags, 69 the backend's servers are not installed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return failoverRun(ctx, o, cmd.OutOrStdout())
		},
	}
	bindFailoverFlags(cmd.Flags(), o)
	return cmd
}

// bindFailoverFlags declares failover's flags on fs, parsing into o.
func bindFailoverFlags(fs *pflag.FlagSet, o *failoverOptions) {
	fs.StringVar(&o.backend, "backend", "wwly-raft", "replicated backend: "+strings.Join(failoverBackends, " or "))
	fs.IntVar(&o.trials, "trials", 5, "trials, each on a fresh cluster")
	fs.DurationVar(&o.warm, "warm", 300*time.Millisecond, "lock cycling before the kill")
	fs.DurationVar(&o.hold, "hold", 5*time.Millisecond, "time each grant is held")
	fs.DurationVar(&o.timeout, "timeout", 20*time.Second, "longest wait for the next grant after the kill")
	fs.DurationVar(&o.opTimeout, "op-timeout", 2*time.Second, "bound of each client Lock attempt and Unlock, retried after it")
	fs.StringVar(&o.bin, "bin", "", "wwly binary the wwly-raft servers run (default: this one)")
	fs.StringVar(&o.serverArgs, "server-args", "", `extra wwly server flags for wwly-raft, e.g. "--loops=1"`)
	fs.StringVar(&o.dir, "dir", "", "scratch dir for data and logs, kept (default: a temp dir, removed)")
}

// benchOptions turns the flags into bench.FailoverOptions; a bad flag is a usage error.
func (o *failoverOptions) benchOptions() (bench.FailoverOptions, error) {
	var errs []error
	if !slices.Contains(failoverBackends, o.backend) {
		errs = append(errs, fmt.Errorf("--backend %q: want one of %s", o.backend, strings.Join(failoverBackends, ", ")))
	}
	if o.trials < 1 || o.trials > 1000 {
		errs = append(errs, fmt.Errorf("--trials %d: want 1..1000", o.trials))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"warm", o.warm}, {"hold", o.hold}, {"timeout", o.timeout}, {"op-timeout", o.opTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("--%s %v: want > 0", d.name, d.v))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return bench.FailoverOptions{}, &exitError{code: exitUsage, err: err}
	}
	return bench.FailoverOptions{
		Backend: o.backend, Trials: o.trials, Warm: o.warm, Hold: o.hold, Timeout: o.timeout, OpTimeout: o.opTimeout,
		Start: bench.StartOptions{Dir: o.dir, Binary: o.bin, ServerArgs: strings.Fields(o.serverArgs)},
	}, nil
}

// failoverRun measures and prints; its error carries the exit status.
func failoverRun(ctx context.Context, o *failoverOptions, w io.Writer) error {
	fo, err := o.benchOptions()
	if err != nil {
		return err
	}
	if fo.Start.Dir == "" {
		dir, err := os.MkdirTemp("", "wwly-failover-")
		if err != nil {
			return &exitError{code: exitFailed, err: fmt.Errorf("failover: %w", err)}
		}
		defer os.RemoveAll(dir)
		fo.Start.Dir = dir
	}
	fmt.Fprintf(w, "%s: %d trials, hold %v, op timeout %v\n", fo.Backend, fo.Trials, fo.Hold, fo.OpTimeout)
	trials, err := bench.MeasureFailover(ctx, fo, func(i int, t bench.FailoverTrial) {
		fmt.Fprintf(w, "trial %d: %v\n", i+1, t)
	})
	if len(trials) > 0 {
		med, most := bench.FailoverSummary(trials)
		fmt.Fprintf(w, "%s: kill -9 of the leader to the next grant over %d trials: median %v, max %v\n",
			fo.Backend, len(trials), med.Round(time.Millisecond), most.Round(time.Millisecond))
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bench.ErrUnavailable):
		return &exitError{code: exitUnavailable, err: err}
	default:
		return &exitError{code: exitFailed, err: err}
	}
}
