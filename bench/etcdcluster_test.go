package bench_test

import (
	"testing"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/bench/benchtest"
)

// TestEtcd3 runs the conformance suite against the 3-member etcd cluster, its data on tmpfs as
// for etcd: the suite checks lock semantics, not fsync.
func TestEtcd3(t *testing.T) {
	benchtest.Run(t, lookup(t, "etcd3"), bench.StartOptions{Dir: memDir(t)})
}
