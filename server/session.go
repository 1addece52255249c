package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// outKeep bounds the capacity of an idle output buffer kept for reuse.
const outKeep = 64 << 10

// session is one client connection. Owned by its loop's goroutine.
type session struct {
	c      gnet.Conn
	loop   *loop
	remote string
	sid    engine.SessionID // 0 until HELLO succeeds

	out      []byte // coalesced frames not yet handed to gnet
	frames   int    // frames in out
	dirty    bool   // listed in loop.dirty
	firstAt  int64  // engine time of the oldest frame in out (FlushInterval > 0)
	timer    *time.Timer
	timerSet bool

	outstanding int   // requests without a reply yet (waiting acquires included)
	lastSeen    int64 // engine time of the last bytes received
	closing     bool  // ERROR sent or close asked: ignore further input
	closed      bool  // gnet reported OnClose

	pendingAcq map[uint64]*shard  // waiting acquires by req id; only with several shards (for CANCEL)
	gathers    map[uint64]*gather // STATUS replies being assembled from several shards
}

// gather collects the shards' parts of one STATUS reply.
type gather struct {
	need  int
	locks []wire.LockInfo
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
	sess := &session{c: c, loop: l, remote: c.RemoteAddr().String(), lastSeen: s.now()}
	c.SetContext(sess)
	l.all[sess] = struct{}{}
	return nil, gnet.None
}

func (h *handler) OnClose(c gnet.Conn, err error) gnet.Action {
	sess, _ := c.Context().(*session)
	if sess == nil || sess.closed {
		return gnet.None
	}
	l := sess.loop
	sess.closed = true
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

// read decodes and handles every complete frame buffered on sess.
func (l *loop) read(sess *session) {
	c := sess.c
	buf, _ := c.Peek(-1)
	if len(buf) == 0 {
		return // a Wake for a delayed flush
	}
	now := l.srv.now()
	sess.lastSeen = now
	off := 0
	f := &l.frame
	for !sess.closing && off < len(buf) {
		n, err := wire.Decode(buf[off:], l.srv.lim, f)
		if err != nil {
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
			break
		}
		off += n
		l.handleFrame(sess, f, now)
	}
	if sess.closing {
		off = len(buf)
	}
	_, _ = c.Discard(off)
}

func isRequest(t wire.Type) bool {
	switch t {
	case wire.Acquire, wire.Release, wire.Renew, wire.Cancel, wire.Status:
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
	}
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
	l.sessions[sess.sid] = sess
	l.reply(sess, wire.AppendWelcome(sess.out, f.Req, uint64(sess.sid),
		int64(srv.cfg.HeartbeatInterval), int64(srv.cfg.HeartbeatTimeout)))
}

// tokenEqual compares in constant time; hashing first hides the token's length as well.
func tokenEqual(got, want []byte) bool {
	a, b := sha256.Sum256(got), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// deliver writes one engine event to its session (on the session's loop).
func (l *loop) deliver(sess *session, ev *engine.Event) {
	if sess.closing {
		return
	}
	var out []byte
	switch ev.Kind {
	case engine.Granted:
		sess.outstanding--
		out = wire.AppendGranted(sess.out, ev.Req, ev.Token)
		delete(sess.pendingAcq, ev.Req)
	case engine.Failed:
		sess.outstanding--
		out = wire.AppendError(sess.out, ev.Req, errorCode(ev.Err), ev.Err.Error())
		delete(sess.pendingAcq, ev.Req)
	case engine.Done:
		sess.outstanding--
		out = wire.AppendOK(sess.out, ev.Req)
	case engine.Lost:
		out = wire.AppendLost(sess.out, ev.Req, ev.Name, ev.Token, wire.CodeLeaseExpired)
	default:
		return
	}
	l.reply(sess, out)
}

// errorCode maps an engine error to its wire code.
func errorCode(err error) wire.Code {
	switch {
	case errors.Is(err, engine.ErrNotHeld):
		return wire.CodeNotHeld
	case errors.Is(err, engine.ErrTimeout):
		return wire.CodeTimeout
	case errors.Is(err, engine.ErrQueueFull):
		return wire.CodeQueueFull
	case errors.Is(err, engine.ErrCancelled):
		return wire.CodeCancelled
	case errors.Is(err, engine.ErrDuplicate):
		return wire.CodeDuplicate
	case errors.Is(err, engine.ErrNameLength):
		return wire.CodeNameLength
	}
	return wire.CodeInternal
}

// closeSession drops sid from every shard: its locks go to their next waiters.
func (l *loop) closeSession(sid engine.SessionID, now int64) {
	r := request{kind: rCloseSession, sid: sid}
	for _, sh := range l.srv.shards {
		l.submit(sh, &r, now)
	}
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
