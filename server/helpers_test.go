package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// testLogger writes server logs to the test log only when -v is on, keeping failures readable.
func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startServer starts a server on 127.0.0.1:0 with cfg adjusted by edit; t.Cleanup stops it.
func startServer(t testing.TB, edit func(*Config)) *Server {
	t.Helper()
	return startServerMode(t, modeSharded, edit)
}

func startServerMode(t testing.TB, mode engineMode, edit func(*Config)) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Logger = testLogger(t)
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.mode = mode
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// frameOrErr is one frame read by a tconn's reader goroutine, or the error that ended it.
type frameOrErr struct {
	f   wire.Frame
	err error
}

// tconn is a raw test client: writes frames, and a goroutine decodes replies into a channel.
type tconn struct {
	t    testing.TB
	c    net.Conn
	in   chan frameOrErr
	next uint64 // request ids
	sid  uint64
}

func dial(t testing.TB, s *Server) *tconn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr(), 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	tc := &tconn{t: t, c: c, in: make(chan frameOrErr, 1024)}
	go func() {
		defer close(tc.in)
		r := wire.NewReader(c, wire.DefaultLimits())
		for {
			f, err := r.Next()
			if err != nil {
				tc.in <- frameOrErr{err: err}
				return
			}
			tc.in <- frameOrErr{f: cloneFrame(f)}
		}
	}()
	t.Cleanup(func() { _ = c.Close() })
	return tc
}

func cloneFrame(f *wire.Frame) wire.Frame {
	g := *f
	g.Auth, g.ClientName = cloneBytes(f.Auth), cloneBytes(f.ClientName)
	g.Name, g.Msg = cloneBytes(f.Name), cloneBytes(f.Msg)
	g.Names = nil
	g.Locks = make([]wire.LockInfo, len(f.Locks))
	for i, li := range f.Locks {
		g.Locks[i] = li
		g.Locks[i].Name = cloneBytes(li.Name)
	}
	g.IDs = append([]uint64(nil), f.IDs...)
	g.Sessions = make([]wire.SessionInfo, len(f.Sessions))
	for i, si := range f.Sessions {
		g.Sessions[i] = si
		g.Sessions[i].Client, g.Sessions[i].Remote = cloneBytes(si.Client), cloneBytes(si.Remote)
	}
	return g
}

// hello connects and completes the handshake.
func helloConn(t testing.TB, s *Server) *tconn {
	t.Helper()
	tc := dial(t, s)
	tc.send(wire.AppendHello(nil, tc.id(), nil, []byte("test")))
	f := tc.expect(wire.Welcome)
	tc.sid = f.Session
	return tc
}

func (tc *tconn) id() uint64 { tc.next++; return tc.next }

func (tc *tconn) send(b []byte) {
	tc.t.Helper()
	_ = tc.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := tc.c.Write(b); err != nil {
		tc.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame, failing the test after 5 s.
func (tc *tconn) read() wire.Frame {
	tc.t.Helper()
	select {
	case fe, ok := <-tc.in:
		if !ok {
			tc.t.Fatalf("connection already ended")
		}
		if fe.err != nil {
			tc.t.Fatalf("read: %v", fe.err)
		}
		return fe.f
	case <-time.After(5 * time.Second):
		tc.t.Fatalf("no frame within 5s")
	}
	return wire.Frame{}
}

// expect reads the next frame and checks its type.
func (tc *tconn) expect(typ wire.Type) wire.Frame {
	tc.t.Helper()
	f := tc.read()
	if f.Type != typ {
		tc.t.Fatalf("got %v (code %v, msg %q), want %v", f.Type, f.Code, f.Msg, typ)
	}
	return f
}

// expectError reads an ERROR with req and code.
func (tc *tconn) expectError(req uint64, code wire.Code) wire.Frame {
	tc.t.Helper()
	f := tc.expect(wire.Error)
	if f.Req != req || f.Code != code {
		tc.t.Fatalf("ERROR req %d code %v (%q), want req %d code %v", f.Req, f.Code, f.Msg, req, code)
	}
	return f
}

// expectClosed checks the server closed the connection (EOF or reset) within 5 s.
func (tc *tconn) expectClosed() {
	tc.t.Helper()
	select {
	case fe, ok := <-tc.in:
		if ok && fe.err == nil {
			tc.t.Fatalf("got %v, want the connection closed", fe.f.Type)
		}
	case <-time.After(5 * time.Second):
		tc.t.Fatalf("connection not closed within 5s")
	}
}

// expectNothing checks no frame arrives within d.
func (tc *tconn) expectNothing(d time.Duration) {
	tc.t.Helper()
	select {
	case fe := <-tc.in:
		tc.t.Fatalf("got %v (err %v), want nothing", fe.f.Type, fe.err)
	case <-time.After(d):
	}
}

// acquire sends ACQUIRE and returns its request id.
func (tc *tconn) acquire(name string, wait, ttl time.Duration) uint64 {
	tc.t.Helper()
	req := tc.id()
	tc.send(wire.AppendAcquire(nil, req, []byte(name), int64(wait), int64(ttl)))
	return req
}

// granted reads a GRANTED for req and returns the token.
func (tc *tconn) granted(req uint64) uint64 {
	tc.t.Helper()
	f := tc.expect(wire.Granted)
	if f.Req != req {
		tc.t.Fatalf("GRANTED req %d, want %d", f.Req, req)
	}
	return f.Token
}

func (tc *tconn) lock(name string) uint64 {
	tc.t.Helper()
	return tc.granted(tc.acquire(name, -1, 0))
}

func (tc *tconn) release(name string, token uint64) uint64 {
	tc.t.Helper()
	req := tc.id()
	tc.send(wire.AppendRelease(nil, req, []byte(name), token))
	return req
}

func (tc *tconn) expectOK(req uint64) {
	tc.t.Helper()
	f := tc.expect(wire.OK)
	if f.Req != req {
		tc.t.Fatalf("OK req %d, want %d", f.Req, req)
	}
}

// ping round-trips a PING, proving the connection is still served.
func (tc *tconn) ping() {
	tc.t.Helper()
	req := tc.id()
	tc.send(wire.AppendPing(nil, req))
	if f := tc.expect(wire.Pong); f.Req != req {
		tc.t.Fatalf("PONG req %d, want %d", f.Req, req)
	}
}

// forLoops runs fn as a subtest with 1 and 2 event loops (2 exercises cross-loop grants).
func forLoops(t *testing.T, fn func(t *testing.T, loops int)) {
	for _, loops := range []int{1, 2} {
		t.Run(map[int]string{1: "loops=1", 2: "loops=2"}[loops], func(t *testing.T) { fn(t, loops) })
	}
}

func withLoops(n int) func(*Config) { return func(c *Config) { c.Loops = n } }
