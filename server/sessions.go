package server

// SESSIONS: who each session is (its HELLO client field and peer address) and how many locks
// it holds or awaits. Sessions live on their loop and their locks on the engine shards, so the
// asking loop gathers in two rounds: one part from every loop, then one count per listed
// session from every shard, as STATUS gathers its parts.

import (
	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// sessionsAsk starts answering SESSIONS(req, ids) for sess: each loop's part is collected on
// that loop and posted back. ids is copied: the frame's slice aliases the read buffer.
func (l *loop) sessionsAsk(sess *session, req uint64, ids []uint64) {
	var own []uint64
	if len(ids) > 0 {
		own = append([]uint64(nil), ids...)
	}
	loops := l.srv.loops
	if sess.who == nil {
		sess.who = make(map[uint64]*gather)
	}
	sess.who[req] = &gather{need: len(loops)}
	r := request{sid: sess.sid, req: req, ids: own}
	for _, dst := range loops {
		if dst == l {
			l.sessionsPart(sess, req, l.sessionsHere(own))
			continue
		}
		dst.post(&message{kind: mSessions, req: r})
	}
}

// sessionsHere lists the sessions of this loop named by ids (all of them when ids is empty),
// at most MaxNames: more would be cut from the reply anyway.
func (l *loop) sessionsHere(ids []uint64) []wire.SessionInfo {
	maxN := l.srv.lim.MaxNames
	var out []wire.SessionInfo
	add := func(s *session) {
		out = append(out, wire.SessionInfo{Session: uint64(s.sid), Client: []byte(s.client), Remote: []byte(s.remote)})
	}
	if len(ids) == 0 {
		for _, s := range l.sessions {
			if len(out) >= maxN {
				break
			}
			add(s)
		}
		return out
	}
	for _, id := range ids {
		if s := l.sessions[engine.SessionID(id)]; s != nil && len(out) < maxN {
			add(s)
		}
	}
	return out
}

// sessionsPart adds one loop's entries to the SESSIONS reply req of sess; when every loop has
// answered, it asks every shard how many locks those sessions hold or await.
func (l *loop) sessionsPart(sess *session, req uint64, part []wire.SessionInfo) {
	g := sess.who[req]
	if g == nil || g.counting {
		return // a duplicate req id replaced this gather; its reply went with the other one
	}
	g.sessions = append(g.sessions, part...)
	if g.need--; g.need > 0 {
		return
	}
	// Keep the reply within the limits every decoder enforces.
	size := wire.HeaderSize + 2
	for i := range g.sessions {
		size += wire.SessionInfoSize(&g.sessions[i])
		if size > l.srv.lim.MaxFrame || i >= l.srv.lim.MaxNames {
			g.sessions = g.sessions[:i]
			break
		}
	}
	if len(g.sessions) == 0 {
		l.sessionsReply(sess, req, g)
		return
	}
	ids := make([]uint64, len(g.sessions))
	for i := range g.sessions {
		ids[i] = g.sessions[i].Session
	}
	g.need, g.counting = len(l.srv.shards), true
	r := request{kind: rSessionLoad, sid: sess.sid, req: req, ids: ids}
	for _, sh := range l.srv.shards {
		l.submit(sh, &r, l.srv.now())
	}
}

// sessionLoadShard counts, on shard sh, the locks of each session r lists, for the SESSIONS
// reply being gathered on the asking session's loop.
func (l *loop) sessionLoadShard(sh *shard, r *request) {
	counts := make([]uint32, len(r.ids))
	for i, id := range r.ids {
		counts[i] = uint32(sh.eng.SessionLoad(engine.SessionID(id)))
	}
	dst := l.srv.loopOf(r.sid)
	if dst == l {
		if sess := l.sessions[r.sid]; sess != nil {
			l.sessionsCounted(sess, r.req, counts)
		}
		return
	}
	dst.post(&message{kind: mSessionLoad, req: request{sid: r.sid, req: r.req}, counts: counts})
}

// sessionsCounted adds one shard's counts to the SESSIONS reply req of sess, replying when complete.
func (l *loop) sessionsCounted(sess *session, req uint64, counts []uint32) {
	g := sess.who[req]
	if g == nil || !g.counting || len(counts) != len(g.sessions) {
		return
	}
	for i, n := range counts {
		g.sessions[i].Locks += n
	}
	if g.need--; g.need > 0 {
		return
	}
	l.sessionsReply(sess, req, g)
}

func (l *loop) sessionsReply(sess *session, req uint64, g *gather) {
	delete(sess.who, req)
	if sess.closing {
		return
	}
	sess.outstanding--
	l.reply(sess, wire.AppendSessionsReply(sess.out, req, g.sessions))
}
