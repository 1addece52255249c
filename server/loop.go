package server

// The loop: the server's state for one gnet event loop, its bracket around every entry from
// gnet, and its sweep of overdue connections.

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// elBox holds a gnet.EventLoop so it can sit in an atomic.Pointer.
type elBox struct{ el gnet.EventLoop }

// loop is the server's state for one gnet event loop. Every field below the inbox is owned
// by that loop's goroutine; post is the only method safe to call from elsewhere.
type loop struct {
	srv *Server
	idx int

	el        atomic.Pointer[elBox]
	inHead    atomic.Pointer[message] // Treiber stack: producers CAS-push, the loop swaps it out whole
	scheduled atomic.Bool             // a drain is queued on the loop
	drainFn   gnet.RunnableFunc

	sweepTimer *time.Timer

	sessions     map[engine.SessionID]*session // sessions past HELLO
	all          map[*session]struct{}         // every open connection, for the sweep and shutdown
	depth        int                           // nesting of enter/leave
	dirty        []*session                    // sessions with frames to flush
	pendingClose []engine.SessionID            // sessions closed while the loop was busy
	nUnauth      int                           // open connections without HELLO
	unauthQ      []*session                    // the same, oldest first (plus stale entries; see popUnauth)
	frame        wire.Frame                    // decode target, reused
	frame2       wire.Frame                    // decode target of the ACQUIRE after a RELEASE (pairAcquire)
	batch        []*message                    // drain scratch
	st           loopStats                     // counters, read through Server.Stats
	xevs         []*message                    // afterEngine scratch: events per destination loop
}

func newLoop(s *Server, idx int) *loop {
	l := &loop{
		srv:      s,
		idx:      idx,
		sessions: make(map[engine.SessionID]*session),
		all:      make(map[*session]struct{}),
	}
	l.drainFn = l.drain
	l.sweepTimer = time.AfterFunc(s.sweepPeriod(), func() { l.post(&message{kind: mSweep}) })
	return l
}

// bind attaches the gnet loop and runs whatever was posted before the loop was known.
func (l *loop) bind(el gnet.EventLoop) {
	l.el.Store(&elBox{el})
	l.scheduled.Store(true)
	_ = el.Execute(context.Background(), l.drainFn)
}

func (l *loop) stopTimers() { l.sweepTimer.Stop() }

// enter and leave bracket every entry from gnet into the loop's state. Work that must not run
// in the middle of another (closing a session while engine events are being routed, flushing)
// is deferred to the outermost leave.
func (l *loop) enter() { l.depth++ }

func (l *loop) leave() {
	if l.depth > 1 {
		l.depth--
		return
	}
	for len(l.pendingClose) > 0 || len(l.dirty) > 0 {
		now := l.srv.now()
		for len(l.pendingClose) > 0 {
			sid := l.pendingClose[0]
			l.pendingClose = l.pendingClose[1:]
			l.closeSession(sid, now)
		}
		l.flushDirty(now)
	}
	l.pendingClose = l.pendingClose[:0]
	l.depth--
}

// sweep closes connections past their deadline (no HELLO within the hello timeout, or silent for
// longer than the heartbeat timeout), then re-arms itself.
func (l *loop) sweep(now int64) {
	for s := range l.all {
		if s.closing {
			continue
		}
		if why, late := l.overdue(s, now); late {
			if s.sid == 0 {
				// Debug: strangers can make many of these.
				l.srv.log.Debug("closing connection", "remote", s.remote, "reason", why)
				l.closeWith(s, wire.CodeAuth, why)
				continue
			}
			l.srv.log.Info("closing silent connection", "remote", s.remote, "session", uint64(s.sid), "reason", why)
			s.closing = true
			l.noteCut(cutHeartbeat)
			_ = s.c.Close()
		}
	}
	if !l.srv.closing.Load() {
		l.sweepTimer.Reset(l.srv.sweepPeriod())
	}
}

// sweepPeriod is how often a loop looks for overdue connections: a quarter of the shorter
// timeout, so a deadline is enforced at most 25% late.
func (s *Server) sweepPeriod() time.Duration {
	return max(min(s.cfg.HeartbeatTimeout, s.cfg.HelloTimeout)/4, time.Millisecond)
}

// keepAlive is the TCP keepalive every accepted connection gets: probes after a heartbeat
// interval of quiet, then every interval, given up after about a heartbeat timeout in all. It
// finds dead peers among the sessions the sweep leaves alone because they wait (see overdue),
// without any wake-up in this process or the peer's: the kernels do the probing.
// The kernel counts in whole seconds (gnet truncates, and refuses 0), hence the rounding up.
func (s *Server) keepAlive() (idle, interval time.Duration, count int) {
	every := max((s.cfg.HeartbeatInterval + time.Second - 1).Truncate(time.Second), time.Second)
	count = max(int((s.cfg.HeartbeatTimeout-every+every-1)/every), 1)
	return every, every, count
}
