package server

// Replies: engine events turned into frames, coalesced per connection and flushed to gnet.

import (
	"errors"
	"fmt"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// outKeep bounds the capacity of an idle output buffer kept for reuse.
const outKeep = 64 << 10

// deliver writes one engine event to its session (on the session's loop).
func (l *loop) deliver(sess *session, ev *engine.Event) {
	if sess.closing {
		return
	}
	var out []byte
	switch ev.Kind {
	case engine.Granted:
		sess.outstanding--
		delete(sess.pendingAcq, ev.Req)
		if _, op := sess.opAcq[ev.Req]; op {
			delete(sess.opAcq, ev.Req)
			var code wire.Code
			if ev.Err != nil { // a Condition wait that timed out, holding its lock again
				code = errorCode(ev.Err)
			}
			out = wire.AppendAcquired(sess.out, ev.Req, ev.Token, ev.Value, code)
			break
		}
		out = wire.AppendGranted(sess.out, ev.Req, ev.Token)
	case engine.Failed:
		sess.outstanding--
		msg := ev.Err.Error()
		if ev.Cycle != nil {
			msg = wire.FormatCycle(cycleHops(ev.Cycle))
		}
		out = wire.AppendError(sess.out, ev.Req, errorCode(ev.Err), msg)
		if sess.quiet && ev.Req == sess.quietRel {
			sess.quiet = false // a failed release is answered at once
		}
		delete(sess.pendingAcq, ev.Req)
		delete(sess.opAcq, ev.Req)
	case engine.Done:
		sess.outstanding--
		out = wire.AppendOK(sess.out, ev.Req)
		if sess.quiet && ev.Req == sess.quietRel {
			// A pipelined release (pairAcquire): the OK rides with the next frame to sess.
			sess.quiet = false
			sess.out = out
			sess.frames++
			return
		}
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
	case errors.Is(err, engine.ErrTooManyHolds):
		return wire.CodeTooManyHolds
	case errors.Is(err, engine.ErrWrongKind):
		return wire.CodeWrongKind
	case errors.Is(err, engine.ErrNotOwner):
		return wire.CodeNotOwner
	case errors.Is(err, engine.ErrOverRelease):
		return wire.CodeOverRelease
	case errors.Is(err, engine.ErrBroken):
		return wire.CodeBroken
	case errors.Is(err, engine.ErrDeadlock):
		return wire.CodeDeadlock
	case errors.Is(err, engine.ErrInvalid):
		return wire.CodeInvalid
	}
	return wire.CodeInternal
}

// reply records that out (sess.out with one more frame appended) is pending for sess.
// Frames are coalesced: they reach the socket at the end of the loop turn (leave), after
// FlushBatch frames, or when FlushInterval > 0 up to that long after the first one.
func (l *loop) reply(sess *session, out []byte) {
	sess.out = out
	if sess.frames == 0 && l.srv.cfg.FlushInterval > 0 {
		sess.firstAt = l.srv.now() // the hold is measured from the oldest unflushed frame
	}
	sess.frames++
	if !sess.dirty {
		sess.dirty = true
		l.dirty = append(l.dirty, sess)
	}
	if sess.frames >= l.srv.cfg.FlushBatch {
		l.flush(sess)
	}
}

// flushDirty flushes every dirty session whose frames are due; with FlushInterval > 0 the
// others keep their frames and a timer wakes their connection when they are due.
func (l *loop) flushDirty(now int64) {
	hold := int64(l.srv.cfg.FlushInterval)
	keep := l.dirty[:0]
	for i, sess := range l.dirty {
		l.dirty[i] = nil
		if sess.closed || len(sess.out) == 0 {
			sess.dirty = false
			continue
		}
		if hold > 0 && now-sess.firstAt < hold {
			if !sess.timerSet {
				l.armFlush(sess, time.Duration(hold-(now-sess.firstAt)))
			}
			keep = append(keep, sess)
			continue
		}
		sess.dirty = false
		l.flush(sess)
	}
	l.dirty = keep
}

// armFlush makes gnet wake sess's connection (an OnTraffic with no new bytes) after d.
func (l *loop) armFlush(sess *session, d time.Duration) {
	sess.timerSet = true
	if sess.timer == nil {
		c := sess.c
		sess.timer = time.AfterFunc(d, func() { _ = c.Wake(nil) })
		return
	}
	sess.timer.Reset(d)
}

// flush hands sess's coalesced frames to gnet in one write. A client whose unsent bytes would
// pass MaxOutbound has stopped reading: it is dropped so it cannot pin the server's memory.
func (l *loop) flush(sess *session) {
	sess.timerSet = false
	if sess.closed || len(sess.out) == 0 {
		sess.out, sess.frames = sess.out[:0], 0
		return
	}
	c := sess.c
	if queued := c.OutboundBuffered(); queued+len(sess.out) > l.srv.cfg.MaxOutbound {
		l.srv.log.Warn("slow consumer, closing connection", "remote", sess.remote, "session", uint64(sess.sid),
			"queued_bytes", queued, "pending_bytes", len(sess.out), "max_outbound", l.srv.cfg.MaxOutbound)
		sess.out, sess.frames = sess.out[:0], 0
		l.noteCut(cutSlowConsumer)
		l.noteError(wire.CodeSlowConsumer)
		// Best effort: the client is not reading, so this may never arrive.
		sess.out = wire.AppendError(sess.out, 0, wire.CodeSlowConsumer, fmt.Sprintf("over %d bytes unread", l.srv.cfg.MaxOutbound))
		_, _ = c.Write(sess.out)
		sess.out = sess.out[:0]
		sess.closing = true
		_ = c.Close()
		return
	}
	// gnet writes straight to the socket when nothing is queued and keeps the rest; an error
	// closes the connection (OnClose, deferred by the loop's depth).
	_, _ = c.Write(sess.out)
	sess.frames = 0
	if cap(sess.out) > outKeep {
		sess.out = nil
	} else {
		sess.out = sess.out[:0]
	}
}
