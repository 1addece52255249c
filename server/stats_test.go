//go:build !wwly_nostats

package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

func snapshot(t testing.TB, s *Server) Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// TestStatsCounts drives every counted outcome once through real connections and checks the
// snapshot, with one and two loops and with the mutex engine.
func TestStatsCounts(t *testing.T) {
	for _, tc := range []struct {
		loops int
		mode  engineMode
	}{{1, modeSharded}, {2, modeSharded}, {2, modeMutex}} {
		t.Run(fmt.Sprintf("loops=%d/mode=%d", tc.loops, tc.mode), func(t *testing.T) {
			s := startServerMode(t, tc.mode, withLoops(tc.loops))
			base := snapshot(t, s)
			if !base.Up || base.Grants != 0 || base.Sessions != 0 {
				t.Fatalf("fresh server: %+v", base)
			}
			a, b, c := helloConn(t, s), helloConn(t, s), helloConn(t, s)

			tokA := a.lock("x") // grant 1, no wait
			reqB := b.acquire("x", -1, 0)
			b.ping() // the acquire has been queued
			if st := snapshot(t, s); st.Waiters != 1 || st.Locks != 1 || st.Sessions != 3 || st.Connections != 3 {
				t.Fatalf("with one waiter: waiters %d locks %d sessions %d conns %d", st.Waiters, st.Locks, st.Sessions, st.Connections)
			}
			time.Sleep(20 * time.Millisecond)
			a.expectOK(a.release("x", tokA)) // release 1; grant 2 after ≥ 20 ms
			tokB := b.granted(reqB)
			b.expectError(b.release("x", tokB+1), wire.CodeNotHeld)
			b.expectOK(b.release("x", tokB)) // release 2

			c.lock("y")                                           // grant 3
			b.expectError(b.acquire("y", 0, 0), wire.CodeTimeout) // busy try-lock: timeout 1
			target := b.acquire("y", -1, 0)                       // queued
			cancelReq := b.id()                                   //
			b.send(wire.AppendCancel(nil, cancelReq, target))     // cancellation 1
			for seen := 0; seen < 2; seen++ {
				f := b.read()
				switch {
				case f.Type == wire.Error && f.Req == target && f.Code == wire.CodeCancelled:
				case f.Type == wire.OK && f.Req == cancelReq:
				default:
					t.Fatalf("after CANCEL: %v req %d code %v", f.Type, f.Req, f.Code)
				}
			}
			reqZ := c.acquire("z", -1, 30*time.Millisecond) // grant 4, then lease lost 1
			c.granted(reqZ)
			if f := c.expect(wire.Lost); f.Target != reqZ && f.Req != reqZ {
				t.Fatalf("LOST for %d/%d, want %d", f.Req, f.Target, reqZ)
			}

			st := snapshot(t, s)
			got := map[string]uint64{
				"grants": st.Grants, "releases": st.Releases, "timeouts": st.Timeouts,
				"cancellations": st.Cancellations, "leases lost": st.LeasesLost,
				"NOT_HELD": st.Errors[wire.CodeNotHeld], "TIMEOUT": st.Errors[wire.CodeTimeout],
				"CANCELLED": st.Errors[wire.CodeCancelled], "accepted": st.ConnectionsAccepted - base.ConnectionsAccepted,
				"waits observed": st.GrantWait.Count,
			}
			want := map[string]uint64{
				"grants": 4, "releases": 2, "timeouts": 1, "cancellations": 1, "leases lost": 1,
				"NOT_HELD": 1, "TIMEOUT": 1, "CANCELLED": 1, "accepted": 3, "waits observed": 4,
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%s = %d, want %d", k, got[k], w)
				}
			}
			if st.Waiters != 0 || st.Locks != 1 { // c still holds y
				t.Errorf("waiters %d locks %d, want 0 and 1", st.Waiters, st.Locks)
			}
			h := st.GrantWait
			if h.Sum < 20*time.Millisecond || h.Sum > 5*time.Second {
				t.Errorf("grant wait sum %v, want one wait ≥ 20ms", h.Sum)
			}
			for i, bound := range h.Bounds {
				if bound < 20*time.Millisecond && h.Cumulative[i] != 3 {
					t.Errorf("le %v: %d, want the 3 immediate grants", bound, h.Cumulative[i])
				}
			}
			if last := h.Cumulative[len(h.Cumulative)-1]; last != 4 {
				t.Errorf("last bucket %d, want 4", last)
			}

			_ = c.c.Close()
			waitFor(t, 5*time.Second, func() bool { return snapshot(t, s).SessionsClosed == 1 }, "session close counted")
			if st := snapshot(t, s); st.Locks != 0 || st.Sessions != 2 {
				t.Errorf("after close: locks %d sessions %d, want 0 and 2", st.Locks, st.Sessions)
			}
		})
	}
}

// TestStatsCuts checks the transport's own errors and cuts: a malformed frame and a silent client.
func TestStatsCuts(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.HeartbeatInterval = 50 * time.Millisecond
		c.HeartbeatTimeout = 200 * time.Millisecond
	})
	bad := helloConn(t, s)
	bad.send([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff}) // a frame of an unknown type
	bad.expectError(0, wire.CodeBadFrame)
	silent := helloConn(t, s)
	silent.expectClosed()
	st := snapshot(t, s)
	if st.Errors[wire.CodeBadFrame] != 1 || st.HeartbeatCuts != 1 || st.SessionsClosed != 2 {
		t.Fatalf("bad frame %d, heartbeat cuts %d, sessions closed %d; want 1, 1, 2",
			st.Errors[wire.CodeBadFrame], st.HeartbeatCuts, st.SessionsClosed)
	}
}

// TestStatsLifecycle: no stats before Start; Up false once shutting down.
func TestStatsLifecycle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = testLogger(t)
	cfg.DataDir = t.TempDir()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stats(context.Background()); err == nil {
		t.Fatal("Stats before Start: no error")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(ctx); err == nil && st.Up {
		t.Fatalf("after Shutdown: Up with err %v", err)
	}
}

func TestHistBuckets(t *testing.T) {
	for _, tc := range []struct {
		ns     int64
		bucket int
	}{{-5, 0}, {0, 0}, {1, 0}, {2, 1}, {3, 2}, {4, 2}, {5, 3}, {1024, 10}, {1025, 11}, {1 << 36, 36}} {
		var h hist
		h.observe(tc.ns)
		if h.counts[tc.bucket] != 1 {
			t.Errorf("observe(%d): counts %v, want bucket %d", tc.ns, h.counts[:12], tc.bucket)
		}
	}
	var h hist
	h.observe(500)     // below the first exposed bound
	h.observe(2000)    // le 2048 ns
	h.observe(1 << 40) // beyond the last bound: only in Count
	snap := h.snapshot()
	if snap.Count != 3 || snap.Bounds[0] != 1024 || snap.Cumulative[0] != 1 || snap.Cumulative[1] != 2 ||
		snap.Cumulative[len(snap.Cumulative)-1] != 2 {
		t.Fatalf("snapshot %+v", snap)
	}
}

// BenchmarkNoteEngine measures what counting adds to the engine work of the hot path, without
// sockets (whose noise on a shared box is far larger than the counters): "uncontended" is one
// session's acquire+release pair; "handoff" is two sessions passing one lock back and forth,
// so every acquire queues and every release grants (the grant-wait map's path).
func BenchmarkNoteEngine(b *testing.B) {
	name := []byte("bench")
	for _, workload := range []string{"uncontended", "handoff"} {
		for _, count := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/count=%v", workload, count), func(b *testing.B) {
				e, err := engine.New(engine.DefaultConfig())
				if err != nil {
					b.Fatal(err)
				}
				sh := &shard{eng: e}
				l := &loop{}
				note := func(kind reqKind, sid engine.SessionID, req uint64, now int64) {
					if count {
						l.noteEngine(sh, &request{kind: kind, sid: sid, req: req}, now)
					}
					e.ClearEvents()
				}
				b.ReportAllocs()
				if workload == "uncontended" {
					for i := range b.N {
						now := int64(i)
						e.Acquire(now, 1, uint64(i), name, -1, 0)
						tok := e.Events()[0].Token
						note(rAcquire, 1, uint64(i), now)
						e.Release(now, 1, uint64(i), name, tok)
						note(rRelease, 1, uint64(i), now)
					}
					return
				}
				e.Acquire(0, 1, 0, name, -1, 0)
				tok := e.Events()[0].Token
				note(rAcquire, 1, 0, 0)
				holder := engine.SessionID(1)
				b.ResetTimer()
				for i := range b.N {
					now := int64(i + 1)
					next := 3 - holder
					e.Acquire(now, next, uint64(i+1), name, -1, 0) // queues
					note(rAcquire, next, uint64(i+1), now)
					e.Release(now, holder, uint64(i), name, tok) // grants next
					tok = e.Events()[1].Token
					note(rRelease, holder, uint64(i), now)
					holder = next
				}
			})
		}
	}
}

// TestStatsSlowConsumer: a client that never reads is cut, and the cut and its ERROR are counted.
func TestStatsSlowConsumer(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxOutbound = 64 << 10 })
	c := dial(t, s)
	_ = c.c.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4096)
	c.send(wire.AppendHello(nil, 1, nil, nil))
	var batch []byte
	for i := range 1000 {
		batch = wire.AppendPing(batch, uint64(i+2))
	}
	// Write until the server cuts us (not until s.conns is 0: the server may not have counted
	// this connection yet when the loop starts). A write cut by its deadline may have sent part
	// of the batch: the next one resumes there, so the stream stays well-formed.
	pending := batch
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		_ = c.c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.c.Write(pending)
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			break // the server closed us
		}
		if pending = pending[n:]; len(pending) == 0 {
			pending = batch
		}
	}
	waitFor(t, 5*time.Second, func() bool { return snapshot(t, s).SlowConsumerCuts == 1 }, "slow consumer cut not counted")
	if st := snapshot(t, s); st.Errors[wire.CodeSlowConsumer] != 1 || st.Connections != 0 {
		t.Fatalf("SLOW_CONSUMER errors %d, connections %d; want 1 and 0", st.Errors[wire.CodeSlowConsumer], st.Connections)
	}
}
