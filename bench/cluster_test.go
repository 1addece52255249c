package bench

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// scratchDir is a temp dir on tmpfs when there is one: cluster tests measure failover, not fsync.
func scratchDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "wwly-bench-cluster-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// startCluster starts backend b's cluster and stops it at the end of the test, checking then
// that no member process is left.
func startCluster(t *testing.T, b Backend, opts StartOptions) clusterInstance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := b.Start(ctx, opts)
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("%s: %v", b.Name(), err)
	}
	if err != nil {
		t.Fatalf("%s: Start: %v", b.Name(), err)
	}
	cl, ok := inst.(clusterInstance)
	if !ok {
		_ = inst.Stop()
		t.Fatalf("%s: %T is not a clusterInstance", b.Name(), inst)
	}
	t.Cleanup(func() {
		if err := cl.Stop(); err != nil {
			t.Errorf("%s: Stop: %v", b.Name(), err)
		}
		for i, p := range clusterProcs(cl) {
			if err := syscall.Kill(p.pid(), 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("%s: member %d (pid %d) still exists after Stop (kill 0: %v)", b.Name(), i, p.pid(), err)
			}
		}
	})
	return cl
}

func clusterProcs(cl clusterInstance) []*serverProc {
	switch c := cl.(type) {
	case *raftCluster:
		return c.procs
	case *etcdCluster:
		return c.procs
	}
	return nil
}

// testLeaderKill: the cluster names one leader, and after it is killed another member leads.
func testLeaderKill(t *testing.T, cl clusterInstance) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if cl.Members() != clusterSize {
		t.Fatalf("Members() = %d; want %d", cl.Members(), clusterSize)
	}
	first, err := cl.Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Kill(first); err != nil {
		t.Fatal(err)
	}
	var next int
	for attempt := 0; ; attempt++ {
		if next, err = cl.Leader(ctx); err == nil && next != first {
			break
		}
		if attempt >= 100 || ctx.Err() != nil {
			t.Fatalf("no new leader after killing member %d: %d, %v", first, next, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("leader %d killed; member %d leads", first, next)
}
