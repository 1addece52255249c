package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrNotCluster is returned by MeasureFailover for a backend that is not a replicated cluster.
var ErrNotCluster = errors.New("bench: backend is not a replicated cluster")

// ErrFailoverUnsafe is returned when a trial's recorded history shows two holders at once or a
// fencing token that did not rise.
var ErrFailoverUnsafe = errors.New("bench: failover broke mutual exclusion")

// ErrNoGrantAfterKill is returned when no grant came within FailoverOptions.Timeout of the kill.
var ErrNoGrantAfterKill = errors.New("bench: no grant after the leader was killed")

// failoverName is the one lock name the trial's clients contend on.
const failoverName = "wwly-failover"

// FailoverOptions configure MeasureFailover. The zero value of a duration means its default.
type FailoverOptions struct {
	Backend string       // a replicated backend: "wwly-raft" or "etcd3"
	Trials  int          // trials, each on a freshly started cluster (default 3)
	Start   StartOptions // Dir (required), Binary, ServerArgs of every cluster
	Warm    time.Duration
	Hold    time.Duration // how long each grant is held; the kill lands inside one (default 5ms)
	Timeout time.Duration // longest wait for the next grant after the kill (default 20s)
	// OpTimeout bounds each Lock attempt, Unlock and Connect of the clients, which retry after
	// it (default 2s): without it a request lost with the leader waits for the client library's
	// own timeout, and that, not the failover, is what would be measured.
	OpTimeout time.Duration
}

func (o FailoverOptions) withDefaults() FailoverOptions {
	if o.Trials <= 0 {
		o.Trials = 3
	}
	if o.Warm <= 0 {
		o.Warm = 300 * time.Millisecond
	}
	if o.Hold <= 0 {
		o.Hold = 5 * time.Millisecond
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Second
	}
	return o
}

// FailoverTrial is one leader kill.
type FailoverTrial struct {
	Killed     int           // index of the member killed (the leader)
	Gap        time.Duration // from the kill to the next grant of the held name
	Grants     int           // grants recorded in the trial, before and after the kill
	Errors     int           // Lock/Unlock errors the clients went through
	Reconnects int           // clients closed and connected again after repeated errors
	FirstError string        // the first error a client retried, if any
}

func (t FailoverTrial) String() string {
	s := fmt.Sprintf("killed member %d (the leader); next grant after %v (%d grants, %d errors, %d reconnects)",
		t.Killed, t.Gap.Round(time.Millisecond), t.Grants, t.Errors, t.Reconnects)
	if t.FirstError != "" {
		s += "; first error: " + t.FirstError
	}
	return s
}

// MeasureFailover runs o.Trials trials. Each starts a cluster of o.Backend, has two clients
// (two sessions) take turns on one name, holding each grant for o.Hold, kills -9 the leader
// right after a grant (so the name is held and the other client waits), and measures the time
// from the kill to the next grant. Each trial's history is checked: no two grants overlap and
// tokens rise. report, when non-nil, is called after each trial. It returns the trials done,
// and an error for the first trial that failed.
func MeasureFailover(ctx context.Context, o FailoverOptions, report func(int, FailoverTrial)) ([]FailoverTrial, error) {
	o = o.withDefaults()
	b, err := Lookup(o.Backend)
	if err != nil {
		return nil, err
	}
	var trials []FailoverTrial
	for i := range o.Trials {
		t, err := failoverTrial(ctx, b, o, i)
		if err != nil {
			return trials, fmt.Errorf("bench: failover trial %d of %s: %w", i+1, o.Backend, err)
		}
		trials = append(trials, t)
		if report != nil {
			report(i, t)
		}
	}
	return trials, nil
}

// FailoverSummary returns the median and the largest gap of trials (zero for none).
func FailoverSummary(trials []FailoverTrial) (median, largest time.Duration) {
	if len(trials) == 0 {
		return 0, 0
	}
	gaps := make([]time.Duration, len(trials))
	for i, t := range trials {
		gaps[i] = t.Gap
	}
	slices.Sort(gaps)
	n := len(gaps)
	median = gaps[n/2]
	if n%2 == 0 {
		median = (gaps[n/2-1] + gaps[n/2]) / 2
	}
	return median, gaps[n-1]
}

// failoverTrial starts a cluster, runs the contending clients, kills the leader and measures.
func failoverTrial(ctx context.Context, b Backend, o FailoverOptions, n int) (FailoverTrial, error) {
	opts := o.Start
	if opts.Dir == "" {
		return FailoverTrial{}, fmt.Errorf("FailoverOptions.Start.Dir is empty")
	}
	opts.Dir = fmt.Sprintf("%s/trial-%d", opts.Dir, n)
	if err := mkdirAll(opts.Dir); err != nil {
		return FailoverTrial{}, err
	}
	inst, err := b.Start(ctx, opts)
	if err != nil {
		return FailoverTrial{}, err
	}
	defer inst.Stop()
	cl, ok := inst.(clusterInstance)
	if !ok || cl.Members() < 2 { // one member (the etcd backend) has no one to fail over to
		return FailoverTrial{}, fmt.Errorf("%w: %s", ErrNotCluster, b.Name())
	}
	rec := newGrantRecorder()
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stats := make([]contenderStats, 2)
	for i := range stats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stats[i] = contend(runCtx, i, b, inst.Env(), rec, o.Hold, o.OpTimeout)
		}()
	}
	t, err := killAndWait(ctx, cl, rec, o)
	stop()
	wg.Wait()
	for _, s := range stats {
		t.Errors += s.errors
		t.Reconnects += s.reconnects
		if s.firstErr != nil && t.FirstError == "" {
			t.FirstError = s.firstErr.Error()
		}
		err = errors.Join(err, s.err)
	}
	t.Grants = rec.count()
	return t, errors.Join(err, rec.check())
}

// killAndWait lets the clients warm up, finds the leader, kills it right after the next grant,
// and waits for the first grant after the kill.
func killAndWait(ctx context.Context, cl clusterInstance, rec *grantRecorder, o FailoverOptions) (FailoverTrial, error) {
	select {
	case <-time.After(o.Warm):
	case <-ctx.Done():
		return FailoverTrial{}, ctx.Err()
	}
	leader, err := cl.Leader(ctx)
	if err != nil {
		return FailoverTrial{}, err
	}
	if _, err := rec.grantAfter(ctx, time.Now(), o.Timeout); err != nil {
		return FailoverTrial{}, fmt.Errorf("before the kill: %w", err)
	}
	killAt := time.Now()
	if err := cl.Kill(leader); err != nil {
		return FailoverTrial{}, err
	}
	next, err := rec.grantAfter(ctx, killAt, o.Timeout)
	if err != nil {
		return FailoverTrial{Killed: leader}, err
	}
	return FailoverTrial{Killed: leader, Gap: next.Sub(killAt)}, nil
}
