package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/bench/benchtest"
)

// TestWwlyRaft runs the conformance suite against three replicated `wwly serve` processes
// built from this checkout, data on tmpfs.
func TestWwlyRaft(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wwly binary; skipped in -short")
	}
	bin := buildWwly(t)
	benchtest.Run(t, lookup(t, "wwly-raft"), bench.StartOptions{Binary: bin, Dir: memDir(t), ServerArgs: slowRaft})
}

// TestFailoverTimeWwlyRaft kills -9 the leader of a 3-server wwly cluster once, while one
// client holds the name and one waits: the history must show no overlap and rising tokens; the
// time from the kill to the next grant is logged (a figure from a shared box, not a pass mark).
func TestFailoverTimeWwlyRaft(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wwly binary; skipped in -short")
	}
	bin := buildWwly(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := bench.FailoverOptions{Backend: "wwly-raft", Trials: 1, Start: bench.StartOptions{Binary: bin, Dir: memDir(t), ServerArgs: slowRaft}}
	trials, err := bench.MeasureFailover(ctx, o, func(i int, tr bench.FailoverTrial) { t.Logf("trial %d: %v", i+1, tr) })
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 1 || trials[0].Gap <= 0 {
		t.Fatalf("trials %v: want one with a measured gap", trials)
	}
}

// slowRaft gives the test clusters raft timeouts of 1 s instead of the 300 ms default: tests run
// beside `go test -race` of every other package, where a 300 ms heartbeat can lapse and elect
// a new leader mid-test (the tests check safety; speed is the failover command's job).
var slowRaft = []string{"--raft-heartbeat-timeout=1s", "--raft-election-timeout=1s"}
