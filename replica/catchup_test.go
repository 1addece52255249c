package replica

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

// TestFollowerCatchesUpFromSnapshot: a follower cut off while the leader moves on and compacts
// its log past what the follower has gets the leader's snapshot (raft's InstallSnapshot, then
// FSM.Restore) and then the log after it, and ends with the leader's exact state. After the
// leader dies, the restored state serves: the hold taken before is still there.
func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := newCluster(t, 3, func(rc *raft.Config) {
		// No failover timing is measured here: timeouts a loaded box keeps (with 50 ms leader
		// leases, -race and other packages' tests running, the leader stepped down mid-test).
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 250*time.Millisecond
		rc.TrailingLogs = 4
		rc.SnapshotThreshold = 1 << 20 // only the snapshot the test asks for
	})
	li, err := c.leader(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ld := c.nodes[li]
	f := (li + 1) % 3
	c.isolate(f, true)
	ctx := testCtx(t, 20*time.Second)
	a, err := ld.OpenSession(ctx, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ld.OpenSession(ctx, []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		name := []byte(fmt.Sprintf("k%d", i%5))
		ev, err := ld.Do(ctx, Command{Op: OpAcquire, Session: a, Req: uint64(2 * i), Name: name, Wait: -1})
		if err != nil || ev.Kind != engine.Granted {
			t.Fatalf("acquire %d: %v %v", i, ev, err)
		}
		if ev, err = ld.Do(ctx, Command{Op: OpRelease, Session: a, Req: uint64(2*i + 1), Name: name, Token: ev.Token}); err != nil || ev.Kind != engine.Done {
			t.Fatalf("release %d: %v %v", i, ev, err)
		}
	}
	ev, err := ld.Do(ctx, Command{Op: OpAcquire, Session: a, Req: 1000, Name: []byte("held"), Wait: -1})
	if err != nil || ev.Kind != engine.Granted {
		t.Fatalf("acquire held: %v %v", ev, err)
	}
	tok := ev.Token
	if _, _, err := ld.Submit(ctx, Command{Op: OpAcquire, Session: b, Req: 1, Name: []byte("held"), Wait: -1}); err != nil {
		t.Fatal(err) // b waits behind a
	}
	if err := ld.Raft().Snapshot().Error(); err != nil {
		t.Fatalf("leader snapshot: %v", err)
	}
	if _, _, err := ld.Submit(ctx, Command{Op: OpAcquire, Session: b, Req: 2, Name: []byte("after"), Wait: -1}); err != nil {
		t.Fatal(err) // one entry past the snapshot: the follower replays it from the log
	}
	c.isolate(f, false)
	fn := c.nodes[f]
	var same bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !same; time.Sleep(10 * time.Millisecond) {
		same = bytes.Equal(fn.FSM().State(), ld.FSM().State())
	}
	if !same {
		t.Fatalf("follower n%d did not reach the leader's state (applied %d of %d)", f, fn.Raft().AppliedIndex(), ld.Raft().AppliedIndex())
	}
	if got := fn.Raft().Stats()["last_snapshot_index"]; got == "0" || got == "" {
		t.Fatalf("follower caught up without installing a snapshot (last_snapshot_index %q): the test proves nothing", got)
	}
	st, ok := fn.FSM().Status([]byte("held"))
	if !ok || st.Holder != a || st.Token != tok || st.Waiters != 1 {
		t.Fatalf("restored follower: held is %+v %v; want holder %d token %#x, 1 waiter", st, ok, a, tok)
	}
	c.kill(li)
	nl, err := c.leader(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// a releases with the token it got from the old leader; b's wait, restored from the
	// snapshot on the follower, is granted.
	ev, err = c.nodes[nl].Do(ctx, Command{Op: OpRelease, Session: a, Req: 1001, Name: []byte("held"), Token: tok})
	if err != nil || ev.Kind != engine.Done {
		t.Fatalf("release through the new leader n%d: %v %v", nl, ev, err)
	}
	if st, ok := c.nodes[nl].FSM().Status([]byte("held")); !ok || st.Holder != b || st.Token <= tok {
		t.Fatalf("after the release: %+v %v; want b to hold it with a higher token", st, ok)
	}
}
