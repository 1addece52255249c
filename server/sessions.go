package server

// SESSIONS: who each session is (its HELLO client field and peer address). Sessions live on
// their loop, so the asking loop gathers one part from every loop, as STATUS does from shards.

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
	if len(loops) > 1 {
		if sess.who == nil {
			sess.who = make(map[uint64]*gather)
		}
		sess.who[req] = &gather{need: len(loops)}
	}
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

// sessionsPart adds one loop's entries to the SESSIONS reply req of sess, replying when complete.
func (l *loop) sessionsPart(sess *session, req uint64, part []wire.SessionInfo) {
	if g := sess.who[req]; g != nil {
		g.sessions = append(g.sessions, part...)
		if g.need--; g.need > 0 {
			return
		}
		delete(sess.who, req)
		part = g.sessions
	}
	if sess.closing {
		return
	}
	// Keep the reply within the limits every decoder enforces.
	size := wire.HeaderSize + 2
	for i := range part {
		size += wire.SessionInfoSize(&part[i])
		if size > l.srv.lim.MaxFrame || i >= l.srv.lim.MaxNames {
			part = part[:i]
			break
		}
	}
	sess.outstanding--
	l.reply(sess, wire.AppendSessionsReply(sess.out, req, part))
}
