package server

import (
	"context"
	"testing"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// releaseAcquire sends RELEASE(token) and the next ACQUIRE of name in one write, as a client
// that pipelines its next cycle does, and returns both request ids.
func (tc *tconn) releaseAcquire(name string, token uint64) (rel, acq uint64) {
	tc.t.Helper()
	rel, acq = tc.id(), tc.id()
	b := wire.AppendRelease(nil, rel, []byte(name), token)
	tc.send(wire.AppendAcquire(b, acq, []byte(name), -1, 0))
	return rel, acq
}

// TestHandoffPolicy: under fifo a pipelined release+acquire hands a contended lock to the
// waiter; under barge:2 the releaser keeps it twice (rising tokens), then the waiter gets it
// and the releaser queues behind, its OK held back until its GRANTED (no wake-up for nothing).
// With 2 loops the waiter lives on the other loop.
func TestHandoffPolicy(t *testing.T) {
	tests := []struct {
		policy string
		keeps  int // pipelined cycles the releaser keeps the lock
	}{
		{"fifo", 0},
		{"barge:2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.policy, func(t *testing.T) {
			forLoops(t, func(t *testing.T, loops int) {
				h, err := engine.ParseHandoff(tt.policy)
				if err != nil {
					t.Fatal(err)
				}
				s := startServer(t, func(c *Config) { c.Loops, c.Handoff = loops, h })
				a, b := helloConn(t, s), helloConn(t, s)
				tok := a.lock("hot")
				wb := b.acquire("hot", -1, 0)
				waitFor(t, 5*time.Second, func() bool {
					st, err := s.Stats(context.Background())
					return err == nil && st.Waiters == 1
				}, "b's acquire never queued")
				for range tt.keeps {
					rel, acq := a.releaseAcquire("hot", tok)
					a.expectOK(rel)
					next := a.granted(acq)
					if next <= tok {
						t.Fatalf("barged token %#x does not rise above %#x", next, tok)
					}
					tok = next
				}
				rel, acq := a.releaseAcquire("hot", tok)
				btok := b.granted(wb)
				if btok <= tok {
					t.Fatalf("waiter's token %#x does not rise above %#x", btok, tok)
				}
				// a queued behind b; the OK of its pipelined release waits for its next frame.
				a.expectNothing(20 * time.Millisecond)
				b.expectOK(b.release("hot", btok))
				a.expectOK(rel)
				if atok := a.granted(acq); atok <= btok {
					t.Fatalf("token %#x after %#x", atok, btok)
				}
				if st, err := s.Stats(context.Background()); err != nil || st.Releases != uint64(tt.keeps+2) {
					t.Fatalf("Stats releases = %d (%v), want %d", st.Releases, err, tt.keeps+2)
				}
			})
		})
	}
}

// BenchmarkHandoff: two connections cycle on one lock, each RELEASE pipelined with its next
// ACQUIRE, so under fifo every cycle hands the lock to the other connection (one socket
// wake-up per handoff) and under barge:N a connection keeps it up to N times. One op is one
// cycle of either connection; allocs/op counts the whole process (server, and the benchmark's
// plain blocking clients): the server's share must stay 0.
func BenchmarkHandoff(b *testing.B) {
	for _, policy := range []string{"fifo", "barge:4"} {
		b.Run("handoff="+policy, func(b *testing.B) {
			h, err := engine.ParseHandoff(policy)
			if err != nil {
				b.Fatal(err)
			}
			s := startServer(b, func(c *Config) { c.Handoff = h })
			conns := []*benchConn{benchDial(b, s.Addr()), benchDial(b, s.Addr())}
			name := []byte("hot")
			b.ReportAllocs()
			b.ResetTimer()
			errs := make(chan error, len(conns))
			for i, bc := range conns {
				n := b.N / 2
				if i == 0 {
					n = b.N - n
				}
				go func() { errs <- bc.cycles(name, max(n, 1)) }()
			}
			for range conns {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
		})
	}
}
