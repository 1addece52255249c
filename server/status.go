package server

// STATUS: each shard's part of a reply, gathered on the asking connection's loop.

import (
	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// gather collects the parts of one STATUS reply (from shards) or SESSIONS reply (from loops).
type gather struct {
	need     int
	locks    []wire.LockInfo
	sessions []wire.SessionInfo // SESSIONS: the loops' parts
	counting bool               // SESSIONS: every loop answered; need counts shards now
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
			Kind:       wirePrim(st.Kind),
			Holders:    uint32(st.Holders),
			Value:      st.Value,
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
		size += 8 + 8 + 4 + 8 + 8 + 1 + 4 + 8 + 2 + len(locks[i].Name) // holder .. value, name
		if size > l.srv.lim.MaxFrame || i >= l.srv.lim.MaxNames {
			locks = locks[:i]
			break
		}
	}
	sess.outstanding--
	l.reply(sess, wire.AppendStatusReply(sess.out, req, locks))
}
