package engine

import "errors"

// Deadlock detection. The wait-for graph links an owner (a session and its Op.Owner) waiting
// for a lock to the lock's owner-bound holder: the holder of a Mutex or RLock, the exclusive
// holder of an RWMutex. Semaphore permits, shared holds, Events, Barriers and Conditions bind
// no owner and add no edge. Only an acquire with Op.Detect that is about to wait walks the
// graph, so nothing is spent when nobody asks or nobody has to wait.

// ErrDeadlock: the acquire would wait for itself through a cycle of holders (Event.Cycle).
var ErrDeadlock = errors.New("engine: acquire would deadlock")

// Hop is one step of a wait-for cycle: Owner of Session waits for the lock Name, held by the
// next hop's owner; the last hop's lock is held by the first hop's owner (the requester).
// Name aliases engine memory like Event.Name.
type Hop struct {
	Session SessionID
	Owner   uint64
	Name    []byte
}

// boundHolder reports the owner-bound holder of l, if it has one.
func (l *lockState) boundHolder() (*session, uint64, bool) {
	switch {
	case l.kind == PrimMutex && l.holder != nil:
		return l.holder, l.holderOwner, true
	case l.kind == PrimRLock && l.holdHead != nil, l.kind == PrimRWMutex && l.excl:
		return l.holdHead.sess, l.holdHead.owner, true
	}
	return nil, 0, false
}

// deadlock reports whether (s, owner) waiting for l would close a cycle; if so it emits
// Failed(req, ErrDeadlock) with the cycle. Cost: O(waits reachable from l's holder).
func (e *Engine) deadlock(s SessionID, req, owner uint64, l *lockState) bool {
	e.visitGen++
	e.path = e.path[:0]
	if !e.reaches(s, owner, l) {
		clear(e.path)
		return false
	}
	start := len(e.hops)
	for i, pl := range e.path {
		h := Hop{Session: s, Owner: owner}
		if i > 0 {
			hs, ho, _ := e.path[i-1].boundHolder()
			h.Session, h.Owner = hs.id, ho
		}
		h.Name = e.copyName(pl.name)
		e.hops = append(e.hops, h)
	}
	clear(e.path)
	e.emit(Failed, s, req, 0, l.name, ErrDeadlock)
	e.events[len(e.events)-1].Cycle = e.hops[start:len(e.hops):len(e.hops)]
	return true
}

// reaches walks from l's owner-bound holder through the waits of that owner (in the order the
// session queued them), depth first, each wait at most once, and reports whether it comes back
// to (s, owner). e.path is the chain of locks walked.
func (e *Engine) reaches(s SessionID, owner uint64, l *lockState) bool {
	hs, ho, ok := l.boundHolder()
	if !ok {
		return false
	}
	e.path = append(e.path, l)
	if hs.id == s && ho == owner {
		return true
	}
	for w := hs.waitHead; w != nil; w = w.snext {
		if w.owner != ho || w.visit == e.visitGen {
			continue
		}
		w.visit = e.visitGen
		if e.reaches(s, owner, w.lock) {
			return true
		}
	}
	e.path = e.path[:len(e.path)-1]
	return false
}
