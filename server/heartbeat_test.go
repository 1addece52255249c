package server

import (
	"context"
	"testing"
	"time"
)

// TestQueuedWaiterNotCut: a session whose only business is an acquire queued behind a holder
// sends nothing for several heartbeat timeouts and is not cut (it waits for the server, not the
// other way round); once granted and still silent, it is a silent holder and is cut, but not
// before most of a timeout has passed since its grant.
func TestQueuedWaiterNotCut(t *testing.T) {
	const every, limit = 20 * time.Millisecond, 150 * time.Millisecond
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, func(c *Config) {
			c.Loops = loops
			c.HeartbeatInterval, c.HeartbeatTimeout = every, limit
		})
		holder, waiter := helloConn(t, s), helloConn(t, s)
		token := holder.lock("q")
		wreq := waiter.acquire("q", -1, 0)
		// The holder keeps talking; the waiter says nothing for 4 timeouts.
		for end := time.Now().Add(4 * limit); time.Now().Before(end); {
			holder.ping()
			time.Sleep(every)
		}
		if st := stats(t, s); st.HeartbeatCuts != 0 {
			t.Fatalf("HeartbeatCuts = %d while the only silent session was queued, want 0", st.HeartbeatCuts)
		}
		holder.expectOK(holder.release("q", token))
		waiter.granted(wreq)
		granted := time.Now()
		// Now a silent holder: it must be cut, while the holder, pinging, is not.
		for closed := false; !closed; {
			holder.ping()
			select {
			case fe, ok := <-waiter.in:
				if ok && fe.err == nil {
					t.Fatalf("got %v, want the connection closed", fe.f.Type)
				}
				closed = true
			case <-time.After(every):
				if time.Since(granted) > 5*time.Second {
					t.Fatal("silent holder not cut within 5s")
				}
			}
		}
		if d := time.Since(granted); d < limit/2 {
			t.Errorf("silent holder cut %v after its grant, want at least most of the %v timeout", d, limit)
		}
		eventually(t, 2*time.Second, "HeartbeatCuts = 1", func() bool {
			holder.ping() // the talking session is untouched (and not idle long enough to be cut)
			return stats(t, s).HeartbeatCuts == 1
		})
	})
}

// TestIdleSessionCut: a session with nothing outstanding that goes silent is cut, as before.
func TestIdleSessionCut(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.HeartbeatInterval, c.HeartbeatTimeout = 20*time.Millisecond, 150*time.Millisecond
	})
	idle := helloConn(t, s)
	began := time.Now()
	idle.expectClosed()
	t.Logf("idle session cut after %v", time.Since(began))
}

func stats(t testing.TB, s *Server) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not true within %v", what, d)
		}
	}
}
