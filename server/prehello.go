package server

import (
	"fmt"
	"time"

	"github.com/wwly/wwly/wire"
)

// Connections that have not sent HELLO yet hold a descriptor and a connection slot without having
// proved anything. They are bounded twice: in time (Config.HelloTimeout from accept; bytes before
// HELLO do not extend it) and in number (Config.MaxUnauthConns). Over the number, the loop closes
// its oldest such connection to admit the new one rather than refusing the newcomer: an
// authorized client sends HELLO at once, so it is never the oldest for long, while strangers that
// dawdle are pushed out by each other and cannot keep every slot.

// admitUnauth counts sess as a connection without HELLO, closing the loop's oldest one first
// when the loop is at its share of the cap.
func (l *loop) admitUnauth(sess *session) {
	for l.nUnauth >= l.srv.unauthPerLoop {
		old := l.popUnauth()
		if old == nil {
			break // the rest are already closing
		}
		l.srv.log.Debug("closing the oldest connection without HELLO to admit a new one", "remote", old.remote,
			"age", time.Duration(l.srv.now()-old.openedAt), "max_unauth_per_loop", l.srv.unauthPerLoop)
		l.leaveUnauth(old)
		l.closeWith(old, wire.CodeTooManyConns, "too many connections without HELLO")
	}
	sess.unauth = true
	l.nUnauth++
	l.srv.unauth.Add(1)
	l.unauthQ = append(l.unauthQ, sess)
	if len(l.unauthQ) > 2*l.nUnauth+64 {
		l.compactUnauth()
	}
}

// leaveUnauth stops counting sess as a connection without HELLO (HELLO done, evicted, or closed).
func (l *loop) leaveUnauth(sess *session) {
	if !sess.unauth {
		return
	}
	sess.unauth = false
	l.nUnauth--
	l.srv.unauth.Add(-1)
}

// popUnauth takes the oldest connection still without HELLO and not closing off the queue.
// Entries of connections that said HELLO or closed are dropped on the way (lazy deletion).
func (l *loop) popUnauth() *session {
	for len(l.unauthQ) > 0 {
		s := l.unauthQ[0]
		l.unauthQ[0] = nil
		l.unauthQ = l.unauthQ[1:]
		if s.unauth && !s.closing && !s.closed {
			return s
		}
	}
	return nil
}

// compactUnauth drops stale entries so the queue stays proportional to the live count.
func (l *loop) compactUnauth() {
	q := l.unauthQ[:0]
	for _, s := range l.unauthQ {
		if s.unauth {
			q = append(q, s)
		}
	}
	clear(l.unauthQ[len(q):])
	l.unauthQ = q
}

// overdue says whether sess has outlived its deadline: HELLO within HelloTimeout of accept, then
// some bytes within every HeartbeatTimeout while nothing of its is outstanding here. It returns
// the reason for the log.
//
// A session with a request outstanding (typically an acquire queued behind others) is waiting
// for the server, not the other way round: its silence proves nothing, and cutting it would
// punish long queues (docs/protocol.md section 4). Its peer's death is left to TCP keepalive
// (see keepAlive) and the kernel's RST. Each sweep that finds it waiting restarts its silence
// clock, so that once its last reply goes out it has most of a timeout (at least 3/4: sweeps run
// every timeout/4) to send again before it counts as a silent holder.
func (l *loop) overdue(sess *session, now int64) (string, bool) {
	if sess.sid == 0 {
		if age := now - sess.openedAt; age > int64(l.srv.cfg.HelloTimeout) {
			return fmt.Sprintf("no HELLO within %v", l.srv.cfg.HelloTimeout), true
		}
		return "", false
	}
	if sess.outstanding > 0 {
		sess.lastSeen = max(sess.lastSeen, now)
		return "", false
	}
	if silent := now - sess.lastSeen; silent > int64(l.srv.cfg.HeartbeatTimeout) {
		return fmt.Sprintf("silent for %v", time.Duration(silent)), true
	}
	return "", false
}
