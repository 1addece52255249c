package server

import (
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// helloAs connects and says HELLO with the given client field.
func helloAs(t *testing.T, s *Server, client string) *tconn {
	t.Helper()
	tc := dial(t, s)
	tc.send(wire.AppendHello(nil, tc.id(), nil, []byte(client)))
	tc.sid = tc.expect(wire.Welcome).Session
	return tc
}

// sessions asks SESSIONS(ids) on tc and returns the entries by session id.
func (tc *tconn) sessions(ids ...uint64) map[uint64]wire.SessionInfo {
	tc.t.Helper()
	req := tc.id()
	tc.send(wire.AppendSessions(nil, req, ids))
	f := tc.expect(wire.SessionsReply)
	if f.Req != req {
		tc.t.Fatalf("SESSIONS_REPLY req %d, want %d", f.Req, req)
	}
	out := make(map[uint64]wire.SessionInfo, len(f.Sessions))
	for _, si := range f.Sessions {
		out[si.Session] = si
	}
	return out
}

// TestSessions: SESSIONS names every session (client field cut to wire.MaxClient, the peer
// address the server saw, locks held plus waiting over all shards), across loops, and leaves
// out ids that name no live session.
func TestSessions(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) { testSessions(t, startServer(t, withLoops(loops))) })
	t.Run("mutex engine", func(t *testing.T) { testSessions(t, startServerMode(t, modeMutex, withLoops(2))) })
}

func testSessions(t *testing.T, s *Server) {
	long := "svc host=h pid=1 " + strings.Repeat("x", 2*wire.MaxClient)
	clients := []string{"wwly lock jobs/42 host=web-1 pid=4242", "", long, "py host=b pid=7"}
	conns := make([]*tconn, len(clients))
	for i, c := range clients {
		conns[i] = helloAs(t, s, c)
	}
	want := func(i int) string { return clients[i][:min(len(clients[i]), wire.MaxClient)] }
	// Locks on several names, so that with two loops they spread over both shards.
	names := []string{"l1", "l2", "l3", "l4"}
	for _, n := range names {
		conns[0].lock(n)
	}
	conns[3].acquire("l1", -1, 0)
	conns[3].ping()
	wantLocks := map[uint64]uint32{conns[0].sid: uint32(len(names)), conns[3].sid: 1}

	all := conns[0].sessions()
	if len(all) != len(conns) {
		t.Fatalf("SESSIONS of all: %d entries, want %d: %+v", len(all), len(conns), all)
	}
	for i, tc := range conns {
		si, ok := all[tc.sid]
		if !ok {
			t.Fatalf("session %d missing", tc.sid)
		}
		if string(si.Client) != want(i) {
			t.Errorf("session %d client %q, want %q", tc.sid, si.Client, want(i))
		}
		if si.Locks != wantLocks[tc.sid] {
			t.Errorf("session %d locks %d, want %d", tc.sid, si.Locks, wantLocks[tc.sid])
		}
		if string(si.Remote) != tc.c.LocalAddr().String() {
			t.Errorf("session %d remote %q, want %q", tc.sid, si.Remote, tc.c.LocalAddr())
		}
	}

	const unknown = 1 << 40
	some := conns[1].sessions(conns[0].sid, conns[3].sid, unknown)
	if len(some) != 2 || string(some[conns[3].sid].Client) != clients[3] {
		t.Fatalf("SESSIONS of two ids and an unknown one: %+v", some)
	}
	// A closed session disappears from the list.
	_ = conns[2].c.Close()
	for range 200 {
		if _, ok := conns[0].sessions()[conns[2].sid]; !ok {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("closed session %d still listed", conns[2].sid)
}
