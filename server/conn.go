package server

// Reading and dispatch: gnet's callbacks, the session of a connection, decoding its bytes
// into frames and acting on each one (HELLO, then requests handed to the router).

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// session is one client connection. Owned by its loop's goroutine.
type session struct {
	c      gnet.Conn
	loop   *loop
	remote string
	client string           // HELLO's client field, at most wire.MaxClient bytes (for SESSIONS)
	sid    engine.SessionID // 0 until HELLO succeeds

	out      []byte // coalesced frames not yet handed to gnet
	frames   int    // frames in out
	dirty    bool   // listed in loop.dirty
	firstAt  int64  // engine time of the oldest frame in out (FlushInterval > 0)
	timer    *time.Timer
	timerSet bool

	outstanding int    // requests without a reply yet (waiting acquires included)
	lastSeen    int64  // engine time of the last bytes received
	openedAt    int64  // engine time of accept: the HELLO deadline counts from here
	unauth      bool   // counted in loop.nUnauth (no HELLO yet)
	closing     bool   // ERROR sent or close asked: ignore further input
	closed      bool   // gnet reported OnClose
	kept        int    // bytes of a partial frame left in gnet's inbound buffer by the last read
	quiet       bool   // quietRel is set: its OK rides with the session's next frame (pairAcquire)
	quietRel    uint64 // the RELEASE of the last pipelined release+acquire

	pendingAcq map[uint64]*shard   // waiting acquires by req id; only with several shards (for CANCEL)
	opAcq      map[uint64]struct{} // waiting OP acquires by req id: their grant is ACQUIRED, not GRANTED
	gathers    map[uint64]*gather  // STATUS replies being assembled from several shards
	who        map[uint64]*gather  // SESSIONS replies being assembled from several loops
}

// handler is the gnet.EventHandler of a Server; its callbacks run on gnet's loops.
type handler struct {
	gnet.BuiltinEventEngine
	srv *Server
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	h.srv.booted <- eng
	return gnet.None
}

func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	s := h.srv
	l := s.bindLoop(c.EventLoop())
	if l == nil {
		s.log.Error("connection on an unknown event loop", "remote", c.RemoteAddr())
		return wire.AppendError(nil, 0, wire.CodeInternal, "unknown event loop"), gnet.Close
	}
	if s.closing.Load() {
		return wire.AppendError(nil, 0, wire.CodeShutdown, "server shutting down"), gnet.Close
	}
	l.noteAccept()
	if n := s.conns.Add(1); n > int64(s.maxConns) {
		s.conns.Add(-1)
		l.noteError(wire.CodeTooManyConns)
		s.log.Warn("connection refused: max-conns reached", "remote", c.RemoteAddr(), "max_conns", s.maxConns)
		return wire.AppendError(nil, 0, wire.CodeTooManyConns, fmt.Sprintf("server has %d connections", s.maxConns)), gnet.Close
	}
	// gnet sets TCP_NODELAY only on sockets it dials, never on accepted ones: without it Nagle
	// holds a GRANTED back while an earlier frame is unacknowledged.
	if err := c.SetNoDelay(true); err != nil {
		s.log.Warn("cannot set TCP_NODELAY", "remote", c.RemoteAddr(), "err", err)
	}
	now := s.now()
	sess := &session{c: c, loop: l, remote: c.RemoteAddr().String(), lastSeen: now, openedAt: now}
	c.SetContext(sess)
	l.all[sess] = struct{}{}
	l.admitUnauth(sess)
	return nil, gnet.None
}

func (h *handler) OnClose(c gnet.Conn, err error) gnet.Action {
	sess, _ := c.Context().(*session)
	if sess == nil || sess.closed {
		return gnet.None
	}
	l := sess.loop
	sess.closed = true
	l.leaveUnauth(sess)
	h.srv.conns.Add(-1)
	delete(l.all, sess)
	if sess.timer != nil {
		sess.timer.Stop()
	}
	h.srv.log.Debug("connection closed", "remote", sess.remote, "session", uint64(sess.sid), "err", err)
	if sess.sid == 0 {
		return gnet.None
	}
	delete(l.sessions, sess.sid)
	l.noteSessionClosed()
	// Release the session's locks now: the next waiter is granted in this same loop turn.
	l.pendingClose = append(l.pendingClose, sess.sid)
	if l.depth == 0 {
		l.enter()
		l.leave()
	}
	return gnet.None
}

func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	sess, _ := c.Context().(*session)
	if sess == nil || sess.closed {
		_, _ = c.Discard(c.InboundBuffered())
		return gnet.None
	}
	l := sess.loop
	l.enter()
	l.read(sess)
	l.leave()
	return gnet.None
}

// read decodes and handles every complete frame buffered on sess, and leaves a trailing partial
// frame buffered for the next read.
//
// gnet's buffer calls have edges this relies on (read from gnet v2.9.7 connection_unix.go):
//   - Discard(n) with n <= 0 drops the WHOLE inbound buffer, so it is called only with off > 0:
//     a frame split across reads (TCP may cut anywhere) must survive until its tail arrives.
//   - Peek's view (of gnet's read buffer, its inbound ring, or a pooled copy when the data spans
//     both) is valid only until Discard, and until gnet closes the connection: a write error in a
//     flush during this read runs OnClose at once and returns the ring to a pool shared by all
//     loops. So decoding stops as soon as sess.closed is set, and nothing from buf is kept.
//   - A Wake (delayed flush) calls OnTraffic with no new bytes: InboundBuffered() then equals what
//     the last read left (sess.kept), and nothing is decoded or refreshed.
func (l *loop) read(sess *session) {
	c := sess.c
	total := c.InboundBuffered()
	if total == sess.kept {
		return // a Wake: no new bytes, at most the same partial frame
	}
	buf, err := c.Peek(total)
	if err != nil || len(buf) != total {
		l.srv.log.Error("cannot peek the inbound buffer, closing connection", "remote", sess.remote, "buffered", total, "err", err)
		l.closeWith(sess, wire.CodeInternal, "inbound buffer")
		return
	}
	now := l.srv.now()
	sess.lastSeen = now
	off := 0
	f := &l.frame
	for !sess.closing && !sess.closed && off < len(buf) {
		n, err := wire.Decode(buf[off:], l.srv.lim, f)
		if err != nil {
			if n > 0 && sess.sid == 0 && f.Type != wire.Hello {
				// A whole frame that is not HELLO, valid or not: the answer is AUTH, as for any
				// request before HELLO (a bad name must not tell a stranger more than that).
				l.hello(sess, f)
				break
			}
			if n > 0 && errors.Is(err, wire.ErrNameLength) && sess.sid != 0 && isRequest(f.Type) {
				off += n
				l.noteError(wire.CodeNameLength)
				l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeNameLength, err.Error()))
				continue
			}
			code := wire.CodeBadFrame
			if errors.Is(err, wire.ErrFrameTooLarge) {
				code = wire.CodeFrameTooLarge
			}
			l.srv.log.Warn("malformed input, closing connection", "remote", sess.remote, "session", uint64(sess.sid), "err", err)
			l.closeWith(sess, code, err.Error())
			break
		}
		if n == 0 {
			break // a partial frame: keep it for the next read
		}
		off += n
		if f.Type == wire.Release && sess.sid != 0 {
			if m := l.pairAcquire(sess, f, buf[off:], now); m > 0 {
				off += m
				continue
			}
		}
		l.handleFrame(sess, f, now)
	}
	switch {
	case sess.closed:
		return // gnet has released the connection's buffers
	case sess.closing:
		off = total // ignore the rest: an ERROR went out and the close is queued
	}
	if off > 0 {
		_, _ = c.Discard(off)
	}
	sess.kept = c.InboundBuffered()
}

func isRequest(t wire.Type) bool {
	switch t {
	case wire.Acquire, wire.Release, wire.Renew, wire.Cancel, wire.Status, wire.Op, wire.Sessions:
		return true
	}
	return false
}

// handleFrame acts on one decoded frame; f's slices alias the read buffer.
func (l *loop) handleFrame(sess *session, f *wire.Frame, now int64) {
	srv := l.srv
	if sess.sid == 0 {
		l.hello(sess, f)
		return
	}
	switch f.Type {
	case wire.Ping:
		l.reply(sess, wire.AppendPong(sess.out, f.Req))
		return
	case wire.Pong:
		return
	case wire.Hello:
		srv.log.Warn("second HELLO, closing connection", "remote", sess.remote, "session", uint64(sess.sid))
		l.closeWith(sess, wire.CodeBadFrame, "second HELLO")
		return
	}
	if !isRequest(f.Type) {
		srv.log.Warn("unexpected frame from client, closing connection", "remote", sess.remote, "type", f.Type.String())
		l.closeWith(sess, wire.CodeBadFrame, "unexpected frame type "+f.Type.String())
		return
	}
	if sess.outstanding >= srv.cfg.MaxOutstanding {
		l.noteError(wire.CodeTooManyRequests)
		l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeTooManyRequests,
			fmt.Sprintf("%d requests outstanding", sess.outstanding)))
		return
	}
	sess.outstanding++
	r := request{sid: sess.sid, req: f.Req, name: f.Name, wait: f.Wait, ttl: f.TTL, token: f.Token, target: f.Target}
	switch f.Type {
	case wire.Acquire:
		r.kind = rAcquire
		sh := srv.shardFor(f.Name)
		if _, dup := sess.opAcq[f.Req]; dup { // the engine would answer, but the OP's grant would then lose its frame type
			sess.outstanding--
			l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeDuplicate, engine.ErrDuplicate.Error()))
			return
		}
		if len(srv.shards) > 1 {
			if _, dup := sess.pendingAcq[f.Req]; dup {
				sess.outstanding--
				l.noteError(wire.CodeDuplicate)
				l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeDuplicate, engine.ErrDuplicate.Error()))
				return
			}
			if sess.pendingAcq == nil {
				sess.pendingAcq = make(map[uint64]*shard)
			}
			sess.pendingAcq[f.Req] = sh
		}
		l.submit(sh, &r, now)
	case wire.Op:
		l.handleOp(sess, f, &r, now)
	case wire.Release:
		r.kind = rRelease
		l.submit(srv.shardFor(f.Name), &r, now)
	case wire.Renew:
		r.kind = rRenew
		l.submit(srv.shardFor(f.Name), &r, now)
	case wire.Cancel:
		r.kind = rCancel
		if len(srv.shards) == 1 {
			l.submit(srv.shards[0], &r, now)
			return
		}
		sh, waiting := sess.pendingAcq[f.Target]
		if !waiting {
			// Not waiting (granted, failed or unknown): the engine would only answer Done.
			sess.outstanding--
			l.reply(sess, wire.AppendOK(sess.out, f.Req))
			return
		}
		l.submit(sh, &r, now)
	case wire.Status:
		r.kind = rStatus
		r.names = f.Names
		if len(f.Names) == 0 {
			r.names = nil
		}
		if len(srv.shards) > 1 {
			if sess.gathers == nil {
				sess.gathers = make(map[uint64]*gather)
			}
			sess.gathers[f.Req] = &gather{need: len(srv.shards)}
		}
		for _, sh := range srv.shards {
			l.submit(sh, &r, now)
		}
	case wire.Sessions:
		l.sessionsAsk(sess, f.Req, f.IDs)
	}
}

// pairAcquire runs the RELEASE rel together with the frame after it in next when that is an
// ACQUIRE of the same name (a client's pipelined next cycle), as one engine call, so that the
// handoff policy may let the releaser keep the lock (engine.ReleaseAcquire; under strict FIFO
// the pair is exactly its two halves). It returns the bytes of the ACQUIRE it consumed, or 0
// when it did nothing (the caller then handles rel alone and decodes next again).
//
// The OK of such a RELEASE is not flushed on its own: it waits in the session's buffer for the
// next frame to the session, at the latest the ACQUIRE's own reply. A client that pipelines its
// release does not wait for that OK, and under FIFO its acquire queues, so sending the OK at once
// would wake the client's reader for nothing: one write and one wake-up per handoff
// (docs/performance.md). A client that does wait for it (two holders of one name in one session)
// gets it no later than the ACQUIRE's reply.
func (l *loop) pairAcquire(sess *session, rel *wire.Frame, next []byte, now int64) int {
	srv := l.srv
	f := &l.frame2
	n, err := wire.Decode(next, srv.lim, f)
	if err != nil || n == 0 || f.Type != wire.Acquire || !bytes.Equal(f.Name, rel.Name) ||
		sess.outstanding+2 > srv.cfg.MaxOutstanding {
		return 0
	}
	if _, dup := sess.opAcq[f.Req]; dup {
		return 0
	}
	sh := srv.shardFor(rel.Name)
	if len(srv.shards) > 1 {
		if _, dup := sess.pendingAcq[f.Req]; dup {
			return 0
		}
		if sess.pendingAcq == nil {
			sess.pendingAcq = make(map[uint64]*shard)
		}
		sess.pendingAcq[f.Req] = sh
	}
	sess.outstanding += 2
	sess.quiet, sess.quietRel = true, rel.Req
	r := request{kind: rReleaseAcquire, sid: sess.sid, req: rel.Req, name: rel.Name, token: rel.Token,
		acq: f.Req, wait: f.Wait, ttl: f.TTL}
	l.submit(sh, &r, now)
	return n
}

// hello handles the first frame of a connection: it must be a HELLO with our version and,
// when the server has one, the right auth token.
func (l *loop) hello(sess *session, f *wire.Frame) {
	srv := l.srv
	switch {
	case f.Type != wire.Hello:
		srv.log.Warn("request before HELLO, closing connection", "remote", sess.remote, "type", f.Type.String())
		l.closeWith(sess, wire.CodeAuth, "HELLO must come first")
		return
	case f.Version != wire.Version:
		srv.log.Warn("unsupported protocol version, closing connection", "remote", sess.remote, "version", f.Version)
		l.closeWith(sess, wire.CodeVersion, fmt.Sprintf("protocol version %d not supported (want %d)", f.Version, wire.Version))
		return
	case srv.cfg.AuthToken != nil && !tokenEqual(f.Auth, srv.cfg.AuthToken):
		srv.log.Warn("bad auth token, closing connection", "remote", sess.remote)
		l.closeWith(sess, wire.CodeAuth, "bad auth token")
		return
	}
	sess.sid = srv.newSessionID(l)
	client := f.ClientName[:min(len(f.ClientName), wire.MaxClient)]
	sess.client = string(client) // copied: f aliases the read buffer
	l.leaveUnauth(sess)
	sess.lastSeen = srv.now() // heartbeats count from HELLO
	l.sessions[sess.sid] = sess
	l.reply(sess, wire.AppendWelcome(sess.out, f.Req, uint64(sess.sid),
		int64(srv.cfg.HeartbeatInterval), int64(srv.cfg.HeartbeatTimeout)))
}

// tokenEqual compares in constant time; hashing first hides the token's length as well.
func tokenEqual(got, want []byte) bool {
	a, b := sha256.Sum256(got), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// closeWith sends ERROR(req 0, code) to sess and closes it, keeping everyone else served.
func (l *loop) closeWith(sess *session, code wire.Code, msg string) {
	if sess.closing || sess.closed {
		return
	}
	l.noteError(code)
	sess.out = wire.AppendError(sess.out, 0, code, msg)
	sess.frames++
	l.flush(sess)
	sess.closing = true
	_ = sess.c.Close() // asynchronous: OnClose follows on this loop
}
