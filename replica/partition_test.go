package replica

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wwly/wwly/engine"
)

// TestPartitionedLeaderNeverGrants: a leader cut off from the others accepts a request but
// cannot commit it, so it never answers Granted; the majority elects a leader that grants the
// name; when the partition heals the old leader's uncommitted entry is dropped and every
// replica agrees on one holder.
func TestPartitionedLeaderNeverGrants(t *testing.T) {
	c := newCluster(t, 3, nil)
	li, err := c.leader(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	old := c.nodes[li]
	ctx := testCtx(t, 20*time.Second)
	a, err := old.OpenSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := old.OpenSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Raft().Barrier(time.Second).Error(); err != nil { // both sessions on every replica
		t.Fatal(err)
	}
	c.isolate(li, true)
	short, cancel := context.WithTimeout(ctx, 600*time.Millisecond)
	ev, err := old.Do(short, Command{Op: OpAcquire, Session: a, Req: 1, Name: []byte("y"), Wait: -1})
	cancel()
	if err == nil {
		t.Fatalf("the isolated leader answered %v; it must not answer without a quorum", ev)
	}
	if !errors.Is(err, ErrOutcomeUnknown) && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("isolated leader: %v, want ErrOutcomeUnknown or ErrNotLeader", err)
	}
	var nl int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if nl, err = c.leader(time.Second); err == nil && nl != li {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the majority elected no leader")
		}
	}
	ev, err = c.nodes[nl].Do(ctx, Command{Op: OpAcquire, Session: b, Req: 1, Name: []byte("y"), Wait: -1})
	if err != nil || ev.Kind != engine.Granted {
		t.Fatalf("new leader: %v %v, want Granted", ev, err)
	}
	c.isolate(li, false)
	var same bool
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !same; time.Sleep(10 * time.Millisecond) {
		same = bytes.Equal(old.FSM().State(), c.nodes[nl].FSM().State())
	}
	if !same {
		t.Fatal("the old leader did not converge to the new leader's state")
	}
	if st, ok := old.FSM().Status([]byte("y")); !ok || st.Holder != b || st.Token != ev.Token || st.Waiters != 0 {
		t.Fatalf("y on the healed old leader: %+v %v; want held by b (%#x), a's acquire gone", st, ok, ev.Token)
	}
}
