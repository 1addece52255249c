package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

func TestAcquireReleaseFIFO(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		// Several names so that, with 2 loops, some live on the other loop's shard.
		for _, name := range []string{"a", "b", "c", "d"} {
			a, b, c := helloConn(t, s), helloConn(t, s), helloConn(t, s)
			ta := a.lock(name)
			rb := b.acquire(name, -1, 0)
			b.waitWaiters(name, 1) // b's acquire is queued before c's (a PING's answer does not prove it with 2 loops)
			rc := c.acquire(name, -1, 0)
			c.waitWaiters(name, 2)
			b.expectNothing(20 * time.Millisecond)

			a.expectOK(a.release(name, ta))
			tb := b.granted(rb)
			c.expectNothing(20 * time.Millisecond)
			b.expectOK(b.release(name, tb))
			tc := c.granted(rc)
			if !(ta < tb && tb < tc) {
				t.Fatalf("%s: tokens %d, %d, %d do not rise", name, ta, tb, tc)
			}
			c.expectOK(c.release(name, tc))
		}
	})
}

func TestTryLockAndTimeout(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b := helloConn(t, s), helloConn(t, s)
		a.lock("x")
		req := b.acquire("x", 0, 0)
		b.expectError(req, wire.CodeTimeout)

		start := time.Now()
		req = b.acquire("x", 50*time.Millisecond, 0)
		b.expectError(req, wire.CodeTimeout)
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Fatalf("timed out after %v, want ≥ 50ms", d)
		}
	})
}

func TestCancel(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b := helloConn(t, s), helloConn(t, s)
		ta := a.lock("x")
		target := b.acquire("x", -1, 0)
		b.ping()
		creq := b.id()
		b.send(wire.AppendCancel(nil, creq, target))
		b.expectError(target, wire.CodeCancelled)
		b.expectOK(creq)
		// A cancelled waiter is never granted.
		a.expectOK(a.release("x", ta))
		b.expectNothing(30 * time.Millisecond)
		// Cancel of something not waiting is still answered.
		creq = b.id()
		b.send(wire.AppendCancel(nil, creq, 999))
		b.expectOK(creq)
	})
}

func TestRenewAndLeaseLoss(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b := helloConn(t, s), helloConn(t, s)
		areq := a.acquire("x", -1, 150*time.Millisecond)
		ta := a.granted(areq)
		rreq := a.id()
		a.send(wire.AppendRenew(nil, rreq, []byte("x"), ta, int64(150*time.Millisecond)))
		a.expectOK(rreq)
		breq := b.acquire("x", -1, 0)
		lost := a.expect(wire.Lost)
		if lost.Target != areq || lost.Token != ta || string(lost.Name) != "x" || lost.Code != wire.CodeLeaseExpired {
			t.Fatalf("LOST %+v, want target %d token %d name x", lost, areq, ta)
		}
		if tb := b.granted(breq); tb <= ta {
			t.Fatalf("token after lease loss %d ≤ %d", tb, ta)
		}
		// The old holder's token is stale now.
		req := a.release("x", ta)
		a.expectError(req, wire.CodeNotHeld)
		req = a.id()
		a.send(wire.AppendRenew(nil, req, []byte("x"), ta, int64(time.Second)))
		a.expectError(req, wire.CodeNotHeld)
	})
}

func TestReleaseNotHeld(t *testing.T) {
	s := startServer(t, nil)
	a := helloConn(t, s)
	req := a.release("nobody", 12345)
	a.expectError(req, wire.CodeNotHeld)
	a.ping()
}

// TestHolderCloseGrantsNext is the "SIGKILL of a holder" property: the next waiter is granted
// as soon as the server sees the holder's connection end.
func TestHolderCloseGrantsNext(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		for _, name := range []string{"p", "q"} {
			a, b := helloConn(t, s), helloConn(t, s)
			a.lock(name)
			breq := b.acquire(name, -1, 0)
			b.ping()
			start := time.Now()
			_ = a.c.Close()
			b.granted(breq)
			d := time.Since(start)
			t.Logf("%s: holder close → next waiter granted in %v", name, d)
			if d > time.Second {
				t.Fatalf("grant after holder close took %v", d)
			}
		}
	})
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	oversized := binary.BigEndian.AppendUint32(nil, 1<<20)
	cases := []struct {
		name  string
		input []byte
		code  wire.Code
	}{
		{"garbage type", append(binary.BigEndian.AppendUint32(nil, 9), 0xEE, 0, 0, 0, 0, 0, 0, 0, 1), wire.CodeBadFrame},
		{"length under minimum", []byte{0, 0, 0, 2, 1, 2}, wire.CodeBadFrame},
		{"oversized frame", oversized, wire.CodeFrameTooLarge},
		{"server frame from client", wire.AppendGranted(nil, 1, 1), wire.CodeBadFrame},
	}
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		other := helloConn(t, s)
		tok := other.lock("held")
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				bad := helloConn(t, s)
				bad.send(tt.input)
				bad.expectError(0, tt.code)
				bad.expectClosed()
				other.ping()
			})
		}
		other.expectOK(other.release("held", tok))
	})
}

func TestNameLengthKeepsConnection(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxName = 8 })
	a := helloConn(t, s)
	req := a.acquire("much-too-long-name", -1, 0)
	a.expectError(req, wire.CodeNameLength)
	a.ping()
}

func TestHelloRequired(t *testing.T) {
	token := []byte("s3cret")
	s := startServer(t, func(c *Config) { c.AuthToken = token })
	t.Run("no hello", func(t *testing.T) {
		c := dial(t, s)
		c.acquire("x", -1, 0)
		c.expectError(0, wire.CodeAuth)
		c.expectClosed()
	})
	t.Run("wrong token", func(t *testing.T) {
		c := dial(t, s)
		c.send(wire.AppendHello(nil, 1, []byte("guess"), nil))
		c.expectError(0, wire.CodeAuth)
		c.expectClosed()
	})
	t.Run("missing token", func(t *testing.T) {
		c := dial(t, s)
		c.send(wire.AppendHello(nil, 1, nil, nil))
		c.expectError(0, wire.CodeAuth)
		c.expectClosed()
	})
	t.Run("wrong version", func(t *testing.T) {
		c := dial(t, s)
		c.send(wire.Append(nil, &wire.Frame{Type: wire.Hello, Req: 1, Version: wire.Version + 1, Auth: token}))
		c.expectError(0, wire.CodeVersion)
		c.expectClosed()
	})
	t.Run("right token", func(t *testing.T) {
		c := dial(t, s)
		c.send(wire.AppendHello(nil, 7, token, []byte("ok")))
		w := c.expect(wire.Welcome)
		if w.Req != 7 || w.Session == 0 || w.Heartbeat != int64(s.cfg.HeartbeatInterval) || w.Timeout != int64(s.cfg.HeartbeatTimeout) {
			t.Fatalf("WELCOME %+v", w)
		}
		c.lock("x")
	})
}

func TestSessionIDsUnique(t *testing.T) {
	s := startServer(t, withLoops(2))
	seen := map[uint64]bool{}
	for range 20 {
		c := helloConn(t, s)
		if seen[c.sid] {
			t.Fatalf("session id %d reused", c.sid)
		}
		seen[c.sid] = true
		_ = c.c.Close()
	}
}

func TestFencingTokensRiseAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	var last uint64
	for run := range 3 {
		cfg := DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		cfg.DataDir = dir
		cfg.Logger = testLogger(t)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		c := helloConn(t, s)
		tok := c.lock("fenced")
		if tok <= last {
			t.Fatalf("run %d: token %d ≤ previous run's %d", run, tok, last)
		}
		last = tok
		_ = c.c.Close()
		if err := s.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTooManyOutstanding(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, func(c *Config) { c.Loops = loops; c.MaxOutstanding = 2 })
		a, b := helloConn(t, s), helloConn(t, s)
		ta := a.lock("x")
		r1 := b.acquire("x", -1, 0)
		r2 := b.acquire("x", -1, 0)
		r3 := b.acquire("x", -1, 0)
		b.expectError(r3, wire.CodeTooManyRequests)
		b.ping() // the connection stays
		a.expectOK(a.release("x", ta))
		t1 := b.granted(r1)
		b.expectOK(b.release("x", t1))
		b.granted(r2)
	})
}

func TestMaxConns(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxConns = 2 })
	a, b := helloConn(t, s), helloConn(t, s)
	c := dial(t, s)
	c.expectError(0, wire.CodeTooManyConns)
	c.expectClosed()
	a.ping()
	b.ping()
	_ = a.c.Close()
	// The slot frees once the server sees a go.
	deadline := time.Now().Add(2 * time.Second)
	for s.conns.Load() > 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	helloConn(t, s).ping()
}

func TestStatus(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b := helloConn(t, s), helloConn(t, s)
		names := []string{"s1", "s2", "s3"}
		for _, n := range names {
			a.lock(n)
		}
		b.acquire("s1", -1, 0)
		b.ping()
		req := b.id()
		b.send(wire.AppendStatus(nil, req, nil))
		f := b.expect(wire.StatusReply)
		if f.Req != req || len(f.Locks) != len(names) {
			t.Fatalf("STATUS reply req %d with %d locks, want req %d with %d", f.Req, len(f.Locks), req, len(names))
		}
		req = b.id()
		b.send(wire.AppendStatus(nil, req, [][]byte{[]byte("s1"), []byte("free")}))
		f = b.expect(wire.StatusReply)
		if len(f.Locks) != 1 || string(f.Locks[0].Name) != "s1" || f.Locks[0].Holder != a.sid || f.Locks[0].Waiters != 1 {
			t.Fatalf("STATUS s1: %+v", f.Locks)
		}
	})
}

func TestHeartbeatTimeoutReleases(t *testing.T) {
	s := startServer(t, func(c *Config) {
		c.HeartbeatInterval = 20 * time.Millisecond
		c.HeartbeatTimeout = 150 * time.Millisecond
	})
	a, b := helloConn(t, s), helloConn(t, s)
	a.lock("hb")
	breq := b.acquire("hb", -1, 0)
	// b stays alive by pinging; a goes silent and must be dropped.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		b.send(wire.AppendPing(nil, b.id()))
		f := b.read()
		if f.Type == wire.Granted && f.Req == breq {
			a.expectClosed()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("silent holder not dropped")
}

func TestShutdownTellsClients(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.DataDir = t.TempDir()
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	conns := []*tconn{helloConn(t, s), helloConn(t, s), dial(t, s)}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.expectError(0, wire.CodeShutdown)
		c.expectClosed()
	}
}

func TestSlowConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("fills socket buffers")
	}
	s := startServer(t, func(c *Config) { c.MaxOutbound = 64 << 10 })
	c := dial(t, s)
	_ = c.c.(interface{ SetReadBuffer(int) error }).SetReadBuffer(4096)
	c.send(wire.AppendHello(nil, 1, nil, nil))
	// Pipeline PINGs and never read the PONGs: the server's queue for us must hit the bound.
	var batch []byte
	for i := range 1000 {
		batch = wire.AppendPing(batch, uint64(i+2))
	}
	// Counted first: otherwise the loop below could end before the server saw us, and the test
	// would pass without testing anything.
	waitFor(t, 5*time.Second, func() bool { return s.conns.Load() == 1 }, "connection not counted")
	deadline := time.Now().Add(10 * time.Second)
	off := 0 // a write cut short by its deadline goes on from where it stopped: frames stay whole
	for time.Now().Before(deadline) {
		_ = c.c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.c.Write(batch[off:])
		off = (off + n) % len(batch)
		if err != nil {
			if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
				break // the server closed us
			}
		}
		if s.conns.Load() == 0 {
			break
		}
	}
	waitFor(t, 5*time.Second, func() bool { return s.conns.Load() == 0 }, "slow consumer not dropped")
	// Everyone else is still served.
	helloConn(t, s).ping()
}

// waitFor polls cond every millisecond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" = valid
	}{
		{"default with a data dir", func(*Config) {}, ""},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data dir is empty"},
		{"unsafe tokens", func(c *Config) { c.DataDir = ""; c.UnsafeTokens = true }, ""},
		{"data dir and unsafe tokens", func(c *Config) { c.UnsafeTokens = true }, "choose one"},
		{"hello timeout 0", func(c *Config) { c.HelloTimeout = 0 }, "hello-timeout"},
		{"unauth over conns", func(c *Config) { c.MaxConns = 10; c.MaxUnauthConns = 10 }, "max-unauth-conns = 10 must be below"},
		{"barge:64", func(c *Config) { c.Handoff.Barge = 64 }, ""},
		{"negative barge", func(c *Config) { c.Handoff.Barge = -1 }, "handoff barge:-1"},
		{"loops 0", func(c *Config) { c.Loops = 0 }, "loops = 0"},
		{"loops 300", func(c *Config) { c.Loops = 300 }, "loops = 300"},
		{"queue cap over max waiters", func(c *Config) { c.QueueCap = 10; c.MaxWaiters = 5 }, "queue-cap = 10 exceeds max-waiters = 5"},
		{"flush batch 0", func(c *Config) { c.FlushBatch = 0 }, "flush-batch"},
		{"negative flush interval", func(c *Config) { c.FlushInterval = -1 }, "flush-interval"},
		{"heartbeat timeout ≤ interval", func(c *Config) { c.HeartbeatTimeout = c.HeartbeatInterval }, "heartbeat-timeout"},
		{"max frame tiny", func(c *Config) { c.MaxFrame = 10 }, "max-frame = 10"},
		{"name over frame", func(c *Config) { c.MaxFrame = 1024; c.MaxName = 2000; c.MaxOutbound = 1 << 20 }, "does not fit"},
		{"outbound under frame", func(c *Config) { c.MaxOutbound = 8 << 10 }, "max-outbound"},
		{"empty auth", func(c *Config) { c.AuthToken = []byte{} }, "auth token"},
		{"empty addr", func(c *Config) { c.Addr = "" }, "addr"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.DataDir = "/validate/only"
			tt.edit(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzServerInput feeds arbitrary bytes after HELLO: the server must answer or close that
// connection only, and keep serving another one. Seeds run as plain tests.
func FuzzServerInput(f *testing.F) {
	f.Add(wire.AppendPing(nil, 1))
	f.Add(wire.AppendAcquire(nil, 2, []byte("x"), 0, 0))
	f.Add(wire.AppendRelease(nil, 3, []byte("x"), 1))
	f.Add(wire.AppendStatus(nil, 4, [][]byte{[]byte("x"), []byte("y")}))
	f.Add(wire.AppendCancel(nil, 5, 2))
	f.Add(wire.AppendSessions(nil, 7, nil))
	f.Add(wire.AppendSessions(nil, 8, []uint64{1, 1 << 63}))
	f.Add(wire.AppendHello(nil, 6, nil, nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 9, byte(wire.Welcome), 0, 0, 0, 0, 0, 0, 0, 1})
	s := startServer(f, withLoops(2))
	probe := helloConn(f, s)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write(wire.AppendHello(nil, 1, nil, nil))
		_, _ = c.Write(data)
		// Whatever the server does with this connection, the probe must still be served.
		probe.t = t
		probe.ping()
	})
}

// Example starts a server on a free port, takes a lock over the raw protocol and stops.
func Example() {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.UnsafeTokens = true // a throwaway server; a real one keeps its epoch in cfg.DataDir
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(cfg)
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Shutdown(context.Background())

	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	out := wire.AppendHello(nil, 1, nil, []byte("example"))
	out = wire.AppendAcquire(out, 2, []byte("printer"), -1, 0)
	_, _ = c.Write(out)
	r := wire.NewReader(c, wire.DefaultLimits())
	for range 2 {
		f, err := r.Next()
		if err != nil {
			panic(err)
		}
		fmt.Println(f.Type, f.Req)
	}
	// Output:
	// WELCOME 1
	// GRANTED 2
}

// TestFlushInterval: a large --flush-interval must really delay replies (the regression gate
// relies on it to build a deliberately slow server), and --flush-batch must cut the hold short.
func TestFlushInterval(t *testing.T) {
	const hold = 80 * time.Millisecond
	s := startServer(t, func(c *Config) { c.FlushInterval = hold; c.FlushBatch = 4 })
	a := helloConn(t, s) // WELCOME itself was held
	start := time.Now()
	a.ping()
	if d := time.Since(start); d < hold*3/4 {
		t.Fatalf("PONG after %v with flush-interval %v", d, hold)
	}
	// Four pipelined PINGs fill a batch: flushed at once.
	var out []byte
	for i := range 4 {
		out = wire.AppendPing(out, uint64(100+i))
	}
	start = time.Now()
	a.send(out)
	for range 4 {
		a.expect(wire.Pong)
	}
	if d := time.Since(start); d > hold/2 {
		t.Logf("batch of 4 took %v (held despite flush-batch?)", d)
	}
}

func TestLifecycleErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(t.Context()); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("Shutdown before Start: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v", err)
	}
	// A second server on the same port cannot start, and says so.
	cfg2 := cfg
	cfg2.Addr = s.Addr()
	cfg2.DataDir = t.TempDir()
	s2, err := New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(); !errors.Is(err, ErrStart) {
		t.Fatalf("Start on a busy port: %v", err)
	}
	if err := s2.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown after failed Start: %v", err)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}
