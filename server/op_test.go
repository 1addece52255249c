package server

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// opArgsT is an OP frame's fields for tests; zero values are the common case.
type opArgsT struct {
	prim   wire.Prim
	action wire.Action
	flags  wire.Flags
	name   string
	n      uint32
	param  uint32
	owner  uint64
	token  uint64
	wait   time.Duration
	lock   string
}

// op sends OP and returns its request id.
func (tc *tconn) op(a opArgsT) uint64 {
	tc.t.Helper()
	req := tc.id()
	f := wire.Frame{Prim: a.prim, Action: a.action, Flags: a.flags, N: a.n, Param: a.param, Owner: a.owner,
		Token: a.token, Wait: int64(a.wait), Name: []byte(a.name)}
	if a.lock != "" {
		f.Lock = []byte(a.lock)
	}
	tc.send(wire.AppendOp(nil, req, &f))
	return req
}

// waitWaiters polls STATUS until name has want waiters. With several loops a request reaches
// its name's shard through an inbox, so a PING's answer does not prove it is queued.
func (tc *tconn) waitWaiters(name string, want uint32) {
	tc.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		req := tc.id()
		tc.send(wire.AppendStatus(nil, req, [][]byte{[]byte(name)}))
		f := tc.expect(wire.StatusReply)
		if len(f.Locks) == 1 && f.Locks[0].Waiters == want {
			return
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("%q: %+v, want %d waiters", name, f.Locks, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// acquired reads an ACQUIRED for req and returns it.
func (tc *tconn) acquired(req uint64) wire.Frame {
	tc.t.Helper()
	f := tc.expect(wire.Acquired)
	if f.Req != req {
		tc.t.Fatalf("ACQUIRED req %d, want %d", f.Req, req)
	}
	return f
}

func acq(p wire.Prim, name string) opArgsT {
	return opArgsT{prim: p, action: wire.ActAcquire, name: name, n: 1, wait: -1}
}

func rel(p wire.Prim, name string) opArgsT {
	return opArgsT{prim: p, action: wire.ActRelease, name: name, n: 1}
}

func TestOpRLock(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b := helloConn(t, s), helloConn(t, s)
		own := acq(wire.PrimRLock, "r")
		own.owner = 7
		tok := a.acquired(a.op(own)).Token
		if again := a.acquired(a.op(own)); again.Token != tok {
			t.Fatalf("re-entry token %d, want the outermost grant's %d", again.Token, tok)
		}
		other := rel(wire.PrimRLock, "r")
		other.owner = 8
		a.expectError(a.op(other), wire.CodeNotOwner) // same session, another owner
		b.expectError(b.op(rel(wire.PrimRLock, "r")), wire.CodeNotOwner)
		wreq := b.op(acq(wire.PrimRLock, "r"))
		b.ping() // b waits
		mine := rel(wire.PrimRLock, "r")
		mine.owner = 7
		a.expectOK(a.op(mine))
		b.expectNothing(50 * time.Millisecond) // depth 1 left
		a.expectOK(a.op(mine))
		if f := b.acquired(wreq); f.Token <= tok {
			t.Fatalf("next owner's token %d, want > %d", f.Token, tok)
		}
		// A name live as an RLock is not a Semaphore.
		a.expectError(a.op(acq(wire.PrimSemaphore, "r")), wire.CodeWrongKind)
	})
}

func TestOpSemaphoreHolderDeath(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b, c := helloConn(t, s), helloConn(t, s), helloConn(t, s)
		take := func(n uint32) opArgsT {
			o := acq(wire.PrimSemaphore, "sem")
			o.n, o.param = n, 3
			return o
		}
		a.acquired(a.op(take(2)))
		c.acquired(c.op(take(1)))
		big := b.op(take(3)) // FIFO: waits for all three permits
		b.ping()
		_ = a.c.Close() // a's 2 permits come back at once; c still holds 1
		b.expectNothing(50 * time.Millisecond)
		rc := rel(wire.PrimSemaphore, "sem")
		rc.param = 3
		c.expectOK(c.op(rc))
		b.acquired(big)

		// BoundedSemaphore: a release past what is held fails and changes nothing.
		bs := acq(wire.PrimBoundedSemaphore, "bsem")
		bs.param = 1
		c.acquired(c.op(bs))
		over := rel(wire.PrimBoundedSemaphore, "bsem")
		over.param, over.n = 1, 2
		c.expectError(c.op(over), wire.CodeOverRelease)
		zero := bs
		zero.n = 0
		c.expectError(c.op(zero), wire.CodeInvalid)
	})
}

func TestOpRWMutex(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		r1, r2, w := helloConn(t, s), helloConn(t, s), helloConn(t, s)
		shared := acq(wire.PrimRWMutex, "rw")
		shared.flags = wire.FlagShared
		r1.acquired(r1.op(shared))
		r2.acquired(r2.op(shared)) // readers share
		wreq := w.op(acq(wire.PrimRWMutex, "rw"))
		w.ping()
		_ = r1.c.Close()
		w.expectNothing(50 * time.Millisecond)
		_ = r2.c.Close() // the last reader's death hands the writer its hold
		f := w.acquired(wreq)
		bad := rel(wire.PrimRWMutex, "rw")
		bad.token = f.Token + 1
		w.expectError(w.op(bad), wire.CodeNotHeld)
		good := rel(wire.PrimRWMutex, "rw")
		good.token = f.Token
		w.expectOK(w.op(good))
	})
}

func TestOpEventWakesEveryone(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		setter := helloConn(t, s)
		open := opArgsT{prim: wire.PrimEvent, action: wire.ActOpen, name: "ev"}
		setter.expectOK(setter.op(open))
		const waiters = 6
		conns := make([]*tconn, waiters)
		reqs := make([]uint64, waiters)
		for i := range conns {
			conns[i] = helloConn(t, s)
			reqs[i] = conns[i].op(acq(wire.PrimEvent, "ev"))
		}
		setter.waitWaiters("ev", waiters)
		isSet := acq(wire.PrimEvent, "ev")
		isSet.wait = 0
		setter.expectError(setter.op(isSet), wire.CodeTimeout)
		setter.expectOK(setter.op(opArgsT{prim: wire.PrimEvent, action: wire.ActSet, name: "ev"}))
		// A waiter woken by SET has succeeded even though CLEAR follows at once.
		setter.expectOK(setter.op(opArgsT{prim: wire.PrimEvent, action: wire.ActClear, name: "ev"}))
		for i, c := range conns {
			if f := c.acquired(reqs[i]); f.Token != 0 || f.Code != 0 {
				t.Fatalf("waiter %d: ACQUIRED %+v", i, f)
			}
		}
		setter.expectOK(setter.op(opArgsT{prim: wire.PrimEvent, action: wire.ActSet, name: "ev"}))
		setter.acquired(setter.op(isSet))
		req := setter.id()
		setter.send(wire.AppendStatus(nil, req, [][]byte{[]byte("ev")}))
		st := setter.expect(wire.StatusReply)
		if len(st.Locks) != 1 || st.Locks[0].Kind != wire.PrimEvent || st.Locks[0].Value != 1 {
			t.Fatalf("STATUS ev: %+v", st.Locks)
		}
	})
}

func TestOpBarrier(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		wait := acq(wire.PrimBarrier, "bar")
		wait.param = 3
		seen := map[int64]bool{}
		conns := []*tconn{helloConn(t, s), helloConn(t, s), helloConn(t, s)}
		reqs := make([]uint64, len(conns))
		for i, c := range conns {
			reqs[i] = c.op(wait)
			if i < 2 {
				c.ping()
			}
		}
		for i, c := range conns {
			seen[c.acquired(reqs[i]).Value] = true
		}
		if !seen[0] || !seen[1] || !seen[2] {
			t.Fatalf("arrival indexes %v, want 0, 1, 2", seen)
		}
		w := conns[0].op(wait)
		conns[1].waitWaiters("bar", 1)
		abort := opArgsT{prim: wire.PrimBarrier, action: wire.ActAbort, name: "bar", param: 3}
		conns[1].expectOK(conns[1].op(abort))
		conns[0].expectError(w, wire.CodeBroken)
	})
}

func TestOpCondition(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		a, b := helloConn(t, s), helloConn(t, s)
		ta := a.acquired(a.op(acq(wire.PrimMutex, "m"))).Token
		cw := opArgsT{prim: wire.PrimCondition, action: wire.ActAcquire, name: "cv", lock: "m", token: ta, wait: -1}
		wreq := a.op(cw) // releases m and waits
		tb := b.acquired(b.op(acq(wire.PrimMutex, "m"))).Token
		notify := opArgsT{prim: wire.PrimCondition, action: wire.ActNotify, name: "cv", lock: "m", token: tb}
		b.expectOK(b.op(notify))
		a.expectNothing(50 * time.Millisecond) // notified, but m is b's
		unlock := rel(wire.PrimMutex, "m")
		unlock.token = tb
		b.expectOK(b.op(unlock))
		if f := a.acquired(wreq); f.Token <= tb || f.Code != 0 {
			t.Fatalf("wait ended with %+v, want m again under a fresh token", f)
		}
		// Notify without holding the lock: NOT_OWNER (Python's RuntimeError).
		b.expectError(b.op(notify), wire.CodeNotOwner)
	})
}

func TestOpConditionTimeoutHoldsLock(t *testing.T) {
	s := startServer(t, nil)
	a := helloConn(t, s)
	ta := a.acquired(a.op(acq(wire.PrimMutex, "m"))).Token
	cw := opArgsT{prim: wire.PrimCondition, action: wire.ActAcquire, name: "cv", lock: "m", token: ta, wait: 20 * time.Millisecond}
	f := a.acquired(a.op(cw))
	if f.Code != wire.CodeTimeout || f.Token == 0 {
		t.Fatalf("timed-out wait: %+v, want ACQUIRED with code TIMEOUT and a token", f)
	}
}

func TestOpDeadlock(t *testing.T) {
	s := startServer(t, nil) // one shard: detection sees every lock
	a, b := helloConn(t, s), helloConn(t, s)
	a.acquired(a.op(acq(wire.PrimMutex, "x")))
	b.acquired(b.op(acq(wire.PrimMutex, "y")))
	ay := acq(wire.PrimMutex, "y")
	ay.flags = wire.FlagDetect
	a.op(ay)
	a.ping() // a waits for y
	bx := acq(wire.PrimMutex, "x")
	bx.flags = wire.FlagDetect
	start := time.Now()
	f := b.expectError(b.op(bx), wire.CodeDeadlock)
	msg := string(f.Msg)
	if !strings.HasPrefix(msg, "deadlock: ") || !strings.Contains(msg, `waits for "x"`) || !strings.Contains(msg, `waits for "y"`) {
		t.Fatalf("DEADLOCK msg %q does not name the cycle", msg)
	}
	t.Logf("DEADLOCK after %v: %s", time.Since(start), msg)
}

func TestOpErrors(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxHolds = 2 })
	a := helloConn(t, s)
	for _, tc := range []struct {
		name string
		op   opArgsT
		code wire.Code
	}{
		{"kind 0", opArgsT{prim: 0, action: wire.ActAcquire, name: "k"}, wire.CodeInvalid},
		{"kind past the last", opArgsT{prim: wire.LastPrim + 1, action: wire.ActAcquire, name: "k"}, wire.CodeInvalid},
		{"action 0", opArgsT{prim: wire.PrimEvent, name: "k"}, wire.CodeInvalid},
		{"unknown flag", opArgsT{prim: wire.PrimEvent, action: wire.ActSet, flags: 0x80, name: "k"}, wire.CodeInvalid},
		{"set on a barrier", opArgsT{prim: wire.PrimBarrier, action: wire.ActSet, name: "k", param: 2}, wire.CodeInvalid},
		{"close never opened", opArgsT{prim: wire.PrimEvent, action: wire.ActClose, name: "k"}, wire.CodeNotHeld},
	} {
		t.Run(tc.name, func(t *testing.T) { a.expectError(a.op(tc.op), tc.code) })
	}
	dup := a.id() // a wait, then the same id again: one hold so far
	f := wire.Frame{Prim: wire.PrimEvent, Action: wire.ActAcquire, Name: []byte("h0"), Wait: -1}
	a.send(wire.AppendOp(nil, dup, &f))
	a.send(wire.AppendOp(nil, dup, &f))
	a.expectError(dup, wire.CodeDuplicate)
	open := func(name string) opArgsT { return opArgsT{prim: wire.PrimEvent, action: wire.ActOpen, name: name} }
	a.expectOK(a.op(open("h1")))
	a.expectError(a.op(open("h2")), wire.CodeTooManyHolds)
}

// FuzzServerOp sends two OP frames with arbitrary fields after HELLO, then PING: every OP must
// be answered or left waiting without closing the connection (a well-formed OP is never a
// protocol error), and another connection must still be served. Seeds run as plain tests.
func FuzzServerOp(f *testing.F) {
	f.Add(uint8(2), uint8(1), uint8(0), uint32(1), uint32(0), uint64(1), uint64(0), int64(-1), "r", "", uint8(2), uint8(2))
	f.Add(uint8(3), uint8(1), uint8(1), uint32(2), uint32(1), uint64(0), uint64(0), int64(0), "s", "", uint8(3), uint8(2))
	f.Add(uint8(6), uint8(5), uint8(0), uint32(0), uint32(0), uint64(0), uint64(0), int64(0), "e", "", uint8(6), uint8(1))
	f.Add(uint8(7), uint8(1), uint8(0), uint32(0), uint32(2), uint64(0), uint64(0), int64(5e6), "b", "", uint8(7), uint8(7))
	f.Add(uint8(8), uint8(1), uint8(0), uint32(0), uint32(0), uint64(0), uint64(1), int64(-1), "c", "m", uint8(1), uint8(1))
	f.Add(uint8(5), uint8(1), uint8(3), uint32(0), uint32(0), uint64(0), uint64(0), int64(-1), "w", "", uint8(5), uint8(2))
	f.Add(uint8(9), uint8(11), uint8(0xff), uint32(0), uint32(0), uint64(0), uint64(0), int64(0), "", "", uint8(0), uint8(0))
	s := startServer(f, withLoops(2))
	probe := helloConn(f, s)
	f.Fuzz(func(t *testing.T, prim, action, flags uint8, n, param uint32, owner, token uint64, wait int64,
		name, lock string, prim2, action2 uint8) {
		if len(name) > 300 || len(lock) > 300 {
			return
		}
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fr := wire.Frame{Prim: wire.Prim(prim), Action: wire.Action(action), Flags: wire.Flags(flags), N: n, Param: param,
			Owner: owner, Token: token, Wait: wait, Name: []byte(name), Lock: []byte(lock)}
		b := wire.AppendHello(nil, 1, nil, nil)
		b = wire.AppendOp(b, 2, &fr)
		fr.Prim, fr.Action = wire.Prim(prim2), wire.Action(action2)
		b = wire.AppendOp(b, 3, &fr)
		b = wire.AppendPing(b, 4)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		r := wire.NewReader(c, wire.DefaultLimits())
		for {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("no PONG after two OPs: %v", err)
			}
			if got.Type == wire.Error && got.Req == 0 {
				t.Fatalf("connection closed by ERROR %v %q", got.Code, got.Msg)
			}
			if got.Type == wire.Pong {
				break
			}
		}
		probe.t = t
		probe.ping()
	})
}
