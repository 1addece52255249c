package server

import (
	"fmt"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

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

// statusShard answers the part of a STATUS request r that lives on sh.
func (l *loop) statusShard(sh *shard, r *request, now int64) {
	maxNames := l.srv.lim.MaxNames
	var locks []wire.LockInfo
	add := func(st engine.LockStatus) bool {
		locks = append(locks, wire.LockInfo{
			Name:       []byte(st.Name),
			Holder:     uint64(st.Holder),
			Token:      st.Token,
			Waiters:    uint32(st.Waiters),
			OldestWait: int64(st.OldestWait),
			LeaseLeft:  int64(st.LeaseLeft),
		})
		return len(locks) < maxNames
	}
	if len(r.names) == 0 {
		sh.eng.Locks(now, add)
	} else {
		for _, name := range r.names {
			if l.srv.shardFor(name) != sh {
				continue
			}
			if st, ok := sh.eng.Status(now, name); ok && !add(st) {
				break
			}
		}
	}
	dst := l.srv.loopOf(r.sid)
	if dst == l {
		if sess := l.sessions[r.sid]; sess != nil {
			l.statusPart(sess, r.req, locks)
		}
		return
	}
	dst.post(&message{kind: mStatus, req: request{sid: r.sid, req: r.req}, locks: locks})
}

// statusPart adds one shard's locks to the STATUS reply req of sess, replying when complete.
func (l *loop) statusPart(sess *session, req uint64, locks []wire.LockInfo) {
	if g := sess.gathers[req]; g != nil {
		g.locks = append(g.locks, locks...)
		if g.need--; g.need > 0 {
			return
		}
		delete(sess.gathers, req)
		locks = g.locks
	}
	if sess.closing {
		return
	}
	// Keep the reply within the limits every decoder enforces.
	size := wire.HeaderSize + 2
	for i := range locks {
		size += 8 + 8 + 4 + 8 + 8 + 2 + len(locks[i].Name)
		if size > l.srv.lim.MaxFrame || i >= l.srv.lim.MaxNames {
			locks = locks[:i]
			break
		}
	}
	sess.outstanding--
	l.reply(sess, wire.AppendStatusReply(sess.out, req, locks))
}
