package replica

import (
	"io"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

// startDisk runs a one-member cluster on disk stores in dir (bootstrapped if new).
func startDisk(t *testing.T, dir string) (*Node, *Disk) {
	t.Helper()
	d, err := OpenDisk(dir, "127.0.0.1:0", "", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rc := testRaftConfig(0)
	servers := []raft.Server{{ID: rc.LocalID, Address: d.Transport.LocalAddr()}}
	if err := Bootstrap(rc, d.Stores, servers); err != nil {
		t.Fatal(err)
	}
	nd, err := NewNode(DefaultConfig(), rc, d.Stores)
	if err != nil {
		t.Fatal(err)
	}
	return nd, d
}

// TestDiskRestart: a node on raft-boltdb and a file snapshot store stops and starts again on
// the same dir: bootstrapping again is harmless, the hold is still there (from a snapshot and
// the log after it) and tokens keep rising. The raft address changes across the restart (port
// 0), which a one-member cluster survives only because the configuration is its own.
func TestDiskRestart(t *testing.T) {
	dir := t.TempDir()
	nd, d := startDisk(t, dir)
	ctx := testCtx(t, 20*time.Second)
	waitLeader(t, nd)
	s, err := nd.OpenSession(ctx, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	g1, err := nd.Do(ctx, Command{Op: OpAcquire, Session: s, Req: 1, Name: []byte("x"), Wait: -1})
	if err != nil || g1.Kind != engine.Granted {
		t.Fatalf("acquire: %v %v", g1, err)
	}
	if err := nd.Raft().Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	g2, err := nd.Do(ctx, Command{Op: OpAcquire, Session: s, Req: 2, Name: []byte("y"), Wait: -1})
	if err != nil || g2.Kind != engine.Granted {
		t.Fatalf("acquire: %v %v", g2, err)
	}
	if err := nd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	nd, d = startDisk(t, dir)
	t.Cleanup(func() { _ = nd.Close(); _ = d.Close() })
	waitLeader(t, nd)
	if err := nd.Raft().Barrier(5 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x", "y"} {
		st, ok := nd.FSM().Status([]byte(name))
		if !ok || st.Holder != s {
			t.Fatalf("%s after restart: %+v %v, want held by %d", name, st, ok, s)
		}
	}
	if !nd.FSM().SessionOpen(s, []byte("secret")) {
		t.Fatal("session not open with its secret after restart")
	}
	g3, err := nd.Do(ctx, Command{Op: OpAcquire, Session: s, Req: 3, Name: []byte("z"), Wait: -1})
	if err != nil || g3.Kind != engine.Granted || g3.Token <= g2.Token {
		t.Fatalf("acquire after restart: %v %v, want a token above %d", g3, err, g2.Token)
	}
}

func waitLeader(t *testing.T, nd *Node) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for nd.Raft().State() != raft.Leader {
		if time.Now().After(deadline) {
			t.Fatal("no leader within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
