package server

// OP frames (protocol version 2, docs/protocol.md section 10): every kind and action, mapped
// onto the engine's AcquireKind, ReleaseKind, Open, CloseName and Signal.

import (
	"fmt"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// opArgs are the fields of an OP frame beyond those request already has (name, wait, token).
type opArgs struct {
	prim   engine.Prim
	action wire.Action
	flags  wire.Flags
	n      uint32
	param  uint32
	owner  uint64
	lock   []byte // Condition: its lock's name
}

// enginePrim maps a wire kind to the engine's: the wire numbers kinds from 1 (0 is read as
// "no kind" in STATUS_REPLY), the engine from 0.
func enginePrim(p wire.Prim) (engine.Prim, bool) {
	if p < wire.PrimMutex || p > wire.LastPrim {
		return 0, false
	}
	return engine.Prim(p - wire.PrimMutex), true
}

// wirePrim is enginePrim's inverse.
func wirePrim(p engine.Prim) wire.Prim { return wire.Prim(p) + wire.PrimMutex }

// signalAction maps the wire actions that Signal serves to the engine's.
func signalAction(a wire.Action) (engine.Action, bool) {
	switch a {
	case wire.ActSet:
		return engine.ActSet, true
	case wire.ActClear:
		return engine.ActClear, true
	case wire.ActAbort:
		return engine.ActAbort, true
	case wire.ActReset:
		return engine.ActReset, true
	case wire.ActNotify:
		return engine.ActNotify, true
	case wire.ActNotifyAll:
		return engine.ActNotifyAll, true
	}
	return 0, false
}

// opShard is the shard an OP runs on: a Condition lives with its lock (the engine releases and
// re-acquires that lock as part of a wait), every other kind with its own name.
func (s *Server) opShard(f *wire.Frame) *shard {
	if f.Prim == wire.PrimCondition && len(f.Lock) > 0 {
		return s.shardFor(f.Lock)
	}
	return s.shardFor(f.Name)
}

// handleOp dispatches one OP frame of an established session; outstanding already counts it.
func (l *loop) handleOp(sess *session, f *wire.Frame, r *request, now int64) {
	prim, ok := enginePrim(f.Prim)
	if !ok || f.Action < wire.ActAcquire || f.Action > wire.LastAction || f.Flags&^(wire.FlagDetect|wire.FlagShared) != 0 {
		sess.outstanding--
		l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeInvalid,
			fmt.Sprintf("OP %v %v flags %v: not a kind, action and flags of protocol version %d", f.Prim, f.Action, f.Flags, wire.Version)))
		return
	}
	r.kind = rOp
	r.op = opArgs{prim: prim, action: f.Action, flags: f.Flags, n: f.N, param: f.Param, owner: f.Owner, lock: f.Lock}
	sh := l.srv.opShard(f)
	if f.Action == wire.ActAcquire {
		// The reply is ACQUIRED, not GRANTED: remember which acquires are OPs.
		if _, dup := sess.opAcq[f.Req]; dup {
			sess.outstanding--
			l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeDuplicate, engine.ErrDuplicate.Error()))
			return
		}
		if _, dup := sess.pendingAcq[f.Req]; dup {
			sess.outstanding--
			l.reply(sess, wire.AppendError(sess.out, f.Req, wire.CodeDuplicate, engine.ErrDuplicate.Error()))
			return
		}
		if sess.opAcq == nil {
			sess.opAcq = make(map[uint64]struct{})
		}
		sess.opAcq[f.Req] = struct{}{}
		if len(l.srv.shards) > 1 {
			if sess.pendingAcq == nil {
				sess.pendingAcq = make(map[uint64]*shard)
			}
			sess.pendingAcq[f.Req] = sh
		}
	}
	l.submit(sh, r, now)
}

// execOp runs an OP request on engine e; the caller holds the right to touch e.
func execOp(e *engine.Engine, r *request, now int64) {
	a := &r.op
	op := engine.Op{
		Prim:   a.prim,
		Name:   r.name,
		Owner:  a.owner,
		N:      a.n,
		Value:  a.param,
		Shared: a.flags&wire.FlagShared != 0,
		Token:  r.token,
		Lock:   a.lock,
		Wait:   time.Duration(r.wait),
		Detect: a.flags&wire.FlagDetect != 0,
	}
	switch a.action {
	case wire.ActAcquire:
		e.AcquireKind(now, r.sid, r.req, op)
	case wire.ActRelease:
		e.ReleaseKind(now, r.sid, r.req, op)
	case wire.ActOpen:
		e.Open(now, r.sid, r.req, op)
	case wire.ActClose:
		e.CloseName(now, r.sid, r.req, op)
	default:
		act, _ := signalAction(a.action) // handleOp let only known actions through
		e.Signal(now, r.sid, r.req, act, op)
	}
}

// cycleHops converts an engine cycle for wire.FormatCycle.
func cycleHops(cycle []engine.Hop) []wire.Hop {
	hops := make([]wire.Hop, len(cycle))
	for i, h := range cycle {
		hops[i] = wire.Hop{Session: uint64(h.Session), Owner: h.Owner, Name: h.Name}
	}
	return hops
}
