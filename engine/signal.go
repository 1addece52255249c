package engine

import (
	"errors"
	"time"
)

// Events, barriers, and the Open records that keep a name's state alive without a holder.

// ErrBroken: a Barrier wait failed because the barrier is (or became) broken: another party's
// wait timed out, was cancelled or its session closed, or Abort or Reset was called
// (Python's BrokenBarrierError).
var ErrBroken = errors.New("engine: barrier broken")

// Action is what Signal does to a name.
type Action uint8

const (
	ActSet       Action = iota + 1 // Event: set the flag and wake every waiter
	ActClear                       // Event: clear the flag
	ActAbort                       // Barrier: break it; every waiter fails with ErrBroken
	ActReset                       // Barrier: every waiter fails with ErrBroken; the barrier is whole again
	ActNotify                      // Condition: move up to Op.N waiters to re-acquire the lock (N 0 = 1)
	ActNotifyAll                   // Condition: move every waiter to re-acquire the lock
)

// actionKind is the kind each action applies to.
func (a Action) kind() (Prim, bool) {
	switch a {
	case ActSet, ActClear:
		return PrimEvent, true
	case ActAbort, ActReset:
		return PrimBarrier, true
	case ActNotify, ActNotifyAll:
		return PrimCondition, true
	}
	return 0, false
}

// Open pins op.Name as op.Prim (with its Value) for session s: the name's state (an Event's
// flag, a Barrier's broken state, a Semaphore's surplus) lives while any session has it open,
// waits on it or holds it, and is forgotten after. Each Open is one record, counted against
// MaxHolds, until CloseName or CloseSession. Done(req), or Failed with ErrNameLength,
// ErrTooManyHolds, ErrInvalid (also for PrimMutex, whose state is only its holder), ErrWrongKind.
func (e *Engine) Open(now int64, s SessionID, req uint64, op Op) {
	l, sess := e.admit(s, req, &op, false, op.invalidOpen(e.cfg.MaxName))
	if l == nil {
		return
	}
	sess = e.revive(sess, s)
	var o *hold
	if k := len(e.freeHolds); k > 0 {
		o = e.freeHolds[k-1]
		e.freeHolds[k-1] = nil
		e.freeHolds = e.freeHolds[:k-1]
	} else {
		o = &hold{}
	}
	o.l, o.sess = l, sess
	sess.linkOpen(o)
	e.emit(Done, s, req, 0, l.name, nil)
}

// CloseName ends the oldest Open record of s on op.Name: Done(req), or Failed(ErrNotHeld) when
// s has none. The name's state is forgotten when nothing else keeps it.
func (e *Engine) CloseName(now int64, s SessionID, req uint64, op Op) {
	var o *hold
	if sess := e.sessions[s]; sess != nil {
		l := e.lookup(op.Name)
		for x := sess.openHead; x != nil && l != nil; x = x.snext {
			if x.l == l {
				o = x
				break
			}
		}
	}
	if o == nil {
		e.emit(Failed, s, req, 0, op.Name, ErrNotHeld)
		return
	}
	l, sess := o.l, o.sess
	e.emit(Done, s, req, 0, l.name, nil)
	e.dropOpen(o)
	e.maybeFreeSession(sess)
	e.settle(now, l)
}

// dropOpen unlinks the Open record o; the caller settles its name and frees the session.
func (e *Engine) dropOpen(o *hold) {
	s := o.sess
	if o.sprev != nil {
		o.sprev.snext = o.snext
	} else {
		s.openHead = o.snext
	}
	if o.snext != nil {
		o.snext.sprev = o.sprev
	} else {
		s.openTail = o.sprev
	}
	s.n--
	o.l.nopen--
	*o = hold{}
	if len(e.freeHolds) < maxFreeList {
		e.freeHolds = append(e.freeHolds, o)
	}
}

// Signal applies op.Action (set in act) to op.Name: Done(req), then for ActSet Granted (token
// 0) to every waiter of the Event in queue order, for ActAbort/ActReset Failed(ErrBroken) to
// every waiter of the Barrier in queue order. Failed(req) with ErrNameLength, ErrInvalid
// (an action of another kind) or ErrWrongKind. A name that is not live is made live for the
// action and forgotten after it unless someone has it open: an Event set while nobody has it
// open stays unset.
func (e *Engine) Signal(now int64, s SessionID, req uint64, act Action, op Op) {
	name := op.Name
	if len(name) == 0 || len(name) > e.cfg.MaxName {
		e.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	kind, ok := act.kind()
	if !ok || kind != op.Prim || op.invalid(e.cfg.MaxName) {
		e.emit(Failed, s, req, 0, name, ErrInvalid)
		return
	}
	l := e.state(name, &op)
	if l == nil {
		e.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	if kind == PrimCondition && !e.owns(s, &op) { // Python: RuntimeError, notify of an un-acquired lock
		e.emit(Failed, s, req, 0, name, ErrNotOwner)
		e.settle(now, l)
		return
	}
	e.emit(Done, s, req, 0, l.name, nil)
	switch act {
	case ActSet:
		l.flag = true
	case ActClear:
		l.flag = false
	case ActAbort:
		e.breakBarrier(l)
	case ActReset:
		e.breakBarrier(l)
		l.flag = false
	case ActNotify:
		e.notify(now, l, max(int(op.N), 1))
	case ActNotifyAll:
		e.notify(now, l, l.nwait)
	}
	e.settle(now, l)
}

// waitEvent is AcquireKind for an Event: Granted (token 0) at once when set, else a wait that
// a set ends with Granted, even if a clear follows at once (as threading.Event).
func (e *Engine) waitEvent(now int64, l *lockState, sess *session, s SessionID, req uint64, wait time.Duration) {
	switch {
	case l.flag:
		e.emit(Granted, s, req, 0, l.name, nil)
		e.settle(now, l)
	case wait == 0:
		e.emit(Failed, s, req, 0, l.name, ErrTimeout)
		e.settle(now, l)
	case l.nwait >= e.cfg.MaxWaiters:
		e.emit(Failed, s, req, 0, l.name, ErrQueueFull)
	default:
		e.enqueue(now, l, e.revive(sess, s), req, wait, 0)
	}
}

// arrive is AcquireKind for a Barrier of l.param parties. The arrival that completes the
// barrier releases every waiter, each with Granted carrying its arrival index in Value (0 for
// the first), the arriving one last; the barrier is then ready for the next round. A broken
// barrier fails arrivals with ErrBroken until Reset. A try (wait 0) that does not complete
// the barrier times out and breaks it, as threading.Barrier.wait(timeout=0) does.
func (e *Engine) arrive(now int64, l *lockState, sess *session, s SessionID, req uint64, wait time.Duration) {
	switch {
	case l.flag:
		e.emit(Failed, s, req, 0, l.name, ErrBroken)
	case l.nwait+1 >= int(l.param):
		var idx int64
		for l.nwait > 0 {
			w := l.front()
			ws, wreq := w.sess, w.req
			e.detachWaiter(w)
			e.freeWaiter(w)
			e.emit(Granted, ws.id, wreq, 0, l.name, nil)
			e.events[len(e.events)-1].Value = idx
			idx++
			e.maybeFreeSession(ws)
		}
		e.emit(Granted, s, req, 0, l.name, nil)
		e.events[len(e.events)-1].Value = idx
	case wait == 0:
		e.emit(Failed, s, req, 0, l.name, ErrTimeout)
		e.breakBarrier(l)
	case l.nwait >= e.cfg.MaxWaiters:
		e.emit(Failed, s, req, 0, l.name, ErrQueueFull)
		return
	default:
		e.enqueue(now, l, e.revive(sess, s), req, wait, 0)
		return
	}
	e.settle(now, l)
}

// breakBarrier marks l broken and fails its waiters with ErrBroken, in queue order.
func (e *Engine) breakBarrier(l *lockState) {
	l.flag = true
	for l.nwait > 0 {
		w := l.front()
		ws, wreq := w.sess, w.req
		e.detachWaiter(w)
		e.freeWaiter(w)
		e.emit(Failed, ws.id, wreq, 0, l.name, ErrBroken)
		e.maybeFreeSession(ws)
	}
}
