package replica

import (
	"bytes"
	"testing"
	"time"

	"github.com/wwly/wwly/engine"
)

// TestWholeClusterRestart: every node stops, then all come back on the stores they had (one
// of them with a snapshot, the others replaying the log). The state is the same as before,
// a hold taken before the restart is still held and can be released with its token, its
// waiter is granted, and tokens keep rising.
func TestWholeClusterRestart(t *testing.T) {
	c := newCluster(t, 3, nil)
	li, err := c.leader(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ld := c.nodes[li]
	ctx := testCtx(t, 20*time.Second)
	a, err := ld.OpenSession(ctx, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ld.OpenSession(ctx, []byte("b"))
	if err != nil {
		t.Fatal(err)
	}
	held, err := ld.Do(ctx, Command{Op: OpAcquire, Session: a, Req: 1, Name: []byte("x"), Wait: -1})
	if err != nil || held.Kind != engine.Granted {
		t.Fatalf("acquire: %v %v", held, err)
	}
	if _, _, err := ld.Submit(ctx, Command{Op: OpAcquire, Session: b, Req: 1, Name: []byte("x"), Wait: -1}); err != nil {
		t.Fatal(err)
	}
	if err := ld.Raft().Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if err := ld.Raft().Barrier(time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	before := ld.FSM().State()
	for i := range c.nodes {
		c.kill(i)
	}
	for i := range c.nodes {
		c.restart(i)
	}
	li, err = c.leader(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ld = c.nodes[li]
	if err := ld.Raft().Barrier(5 * time.Second).Error(); err != nil { // the new term's entries applied
		t.Fatal(err)
	}
	if !bytes.Equal(before, ld.FSM().State()) {
		t.Fatal("the state after the restart differs from the state before it")
	}
	ev, err := ld.Do(ctx, Command{Op: OpRelease, Session: a, Req: 2, Name: []byte("x"), Token: held.Token})
	if err != nil || ev.Kind != engine.Done {
		t.Fatalf("release after the restart: %v %v", ev, err)
	}
	st, ok := ld.FSM().Status([]byte("x"))
	if !ok || st.Holder != b || st.Token <= held.Token {
		t.Fatalf("x after the release: %+v %v; want b holding it with a token above %#x", st, ok, held.Token)
	}
}
