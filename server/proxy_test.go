package server

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/wwly/wwly/faultproxy"
	"github.com/wwly/wwly/wire"
)

// startProxy runs a fault proxy in front of s until the test ends.
func startProxy(t testing.TB, s *Server, cfg faultproxy.Config) *faultproxy.Proxy {
	t.Helper()
	cfg.Target = s.Addr()
	p, err := faultproxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// pipelinedScript is a session's worth of pipelined requests: HELLO, ACQUIREs of 24 names, a
// second ACQUIRE of one (already held: TIMEOUT), releases, a bad release, STATUS and PINGs.
func pipelinedScript(prefix string) (b []byte, replies int) {
	b = wire.AppendHello(b, 1, nil, []byte("script"))
	req := uint64(2)
	for i := range 24 {
		b = wire.AppendAcquire(b, req, []byte(fmt.Sprintf("%s-%02d", prefix, i)), -1, 0)
		req++
	}
	b = wire.AppendAcquire(b, req, []byte(prefix+"-00"), 0, 0)
	req++
	b = wire.AppendRelease(b, req, []byte(prefix+"-99"), 1)
	req++
	b = wire.AppendStatus(b, req, [][]byte{[]byte(prefix + "-01"), []byte(prefix + "-02")})
	req++
	for range 5 {
		b = wire.AppendPing(b, req)
		req++
	}
	return b, int(req - 1)
}

// reply is what a scripted session is compared on: tokens differ between runs, the rest not.
type replyKey struct {
	typ   wire.Type
	req   uint64
	code  wire.Code
	locks int
}

// runScript writes script to addr in one go and reads n replies.
func runScript(t *testing.T, addr string, script []byte, n int) []replyKey {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(script); err != nil {
		t.Fatal(err)
	}
	r := wire.NewReader(c, wire.DefaultLimits())
	var got []replyKey
	for len(got) < n {
		f, err := r.Next()
		if err != nil {
			t.Fatalf("after %d replies: %v", len(got), err)
		}
		got = append(got, replyKey{f.Type, f.Req, f.Code, len(f.Locks)})
	}
	return got
}

// TestSlicedPipelineServedAsDirect: the same pipelined session through a proxy that cuts both
// directions into 1..3-byte chunks with delays gets exactly the replies it gets direct.
func TestSlicedPipelineServedAsDirect(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("proxy seed %d", seed)
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		p := startProxy(t, s, faultproxy.Config{
			Seed: seed,
			Up:   faultproxy.Toxics{Slice: 3, Delay: 20 * time.Microsecond},
			Down: faultproxy.Toxics{Slice: 5},
		})
		// With several loops, replies for names on another loop's shard come back when that loop
		// answers: the order between requests is not fixed, each request's reply is.
		norm := func(r []replyKey) []replyKey {
			if loops > 1 {
				slices.SortFunc(r, func(a, b replyKey) int { return cmp.Compare(a.req, b.req) })
			}
			return r
		}
		script, n := pipelinedScript("direct")
		want := norm(runScript(t, s.Addr(), script, n))
		for round := range 3 {
			script, n := pipelinedScript(fmt.Sprintf("proxied%d", round))
			got := norm(runScript(t, p.Addr(), script, n))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("round %d through the proxy:\n got %v\nwant %v", round, got, want)
			}
		}
		if st := p.Stats(); st.UpChunks < int64(len(script))/3 {
			t.Fatalf("proxy did not slice: %+v", st)
		}
	})
}

// TestResetMidHoldGrantsNext: a holder whose connection is reset (RST, as a crashed host or a
// middlebox would) loses the lock at once to the next waiter.
func TestResetMidHoldGrantsNext(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		p := startProxy(t, s, faultproxy.Config{Seed: 7, Up: faultproxy.Toxics{Slice: 4}})
		for _, name := range []string{"r1", "r2", "r3"} {
			a := dial(t, &Server{addr: p.Addr()})
			a.send(wire.AppendHello(nil, a.id(), nil, nil))
			a.expect(wire.Welcome)
			ta := a.lock(name)
			b := helloConn(t, s)
			breq := b.acquire(name, -1, 0)
			b.ping() // b is queued
			start := time.Now()
			if p.ResetAll() < 1 {
				t.Fatal("nothing to reset")
			}
			if tb := b.granted(breq); tb <= ta {
				t.Fatalf("token %d after reset ≤ %d", tb, ta)
			}
			t.Logf("%s: reset → next waiter granted in %v", name, time.Since(start))
			a.expectClosed()
		}
	})
}
