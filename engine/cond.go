package engine

// Conditions: a wait releases the Mutex or RLock the Condition is bound to and queues on the
// Condition; a notify moves the wait into the lock's queue, and the wait ends with Granted
// once the lock is held again (with a fresh token; an RLock at its old depth).

// owns reports whether s holds op.Lock as its Mutex (under op.Token) or RLock (as op.Owner).
func (e *Engine) owns(s SessionID, op *Op) bool {
	l := e.lookup(op.Lock)
	switch {
	case l == nil || !l.live:
		return false
	case l.kind == PrimMutex:
		return l.holder.id == s && l.token == op.Token
	case l.kind == PrimRLock:
		hd := l.holdHead
		return hd != nil && hd.sess.id == s && hd.owner == op.Owner
	}
	return false
}

// condWait is AcquireKind for the Condition c (live, bound to op.Lock): it checks that s holds
// the lock, queues the wait, then releases the lock entirely (its next waiters are granted).
// Failed(ErrNotOwner) when s does not hold it (Python's RuntimeError), ErrQueueFull when c's
// queue is full. A wait of 0 goes straight back to the lock's queue, as after a timeout.
func (e *Engine) condWait(now int64, c *lockState, s SessionID, req uint64, op *Op) {
	if !e.owns(s, op) {
		e.emit(Failed, s, req, 0, c.name, ErrNotOwner)
		e.settle(now, c)
		return
	}
	if c.nwait >= e.cfg.MaxWaiters {
		e.emit(Failed, s, req, 0, c.name, ErrQueueFull)
		return
	}
	l := e.lookup(op.Lock)
	sess := e.sessions[s]
	w := e.enqueue(now, c, sess, req, op.Wait, 0)
	w.lockKind, w.owner = l.kind, op.Owner
	if l.kind == PrimMutex {
		e.detachHolder(l)
		e.grantNext(now, l)
	} else {
		hd := l.holdHead
		w.count = hd.count
		e.dropHold(hd)
		e.settle(now, l)
	}
	if op.Wait == 0 {
		e.reacquire(now, w, ErrTimeout)
		e.settle(now, c)
	}
}

// condTimeout ends the Condition wait w whose deadline passed: it queues for the lock again and
// its Granted will carry ErrTimeout (Python's wait returns False, with the lock held).
func (e *Engine) condTimeout(now int64, w *waiter) {
	c := w.lock
	e.reacquire(now, w, ErrTimeout)
	e.settle(now, c)
}

// notify moves up to n waiters of the Condition c, oldest first, to their lock's queue.
func (e *Engine) notify(now int64, c *lockState, n int) {
	for ; n > 0 && c.nwait > 0; n-- {
		e.reacquire(now, c.front(), nil)
	}
}

// reacquire takes the wait w off its Condition (the caller settles the Condition after) and queues it for the Condition's lock (whatever
// MaxWaiters says: the wait was already counted), or grants the lock at once when it is free.
// If the lock's name became live as another kind meanwhile, the wait fails with ErrWrongKind.
func (e *Engine) reacquire(now int64, w *waiter, err error) {
	c := w.lock
	sess, req, kind, owner, count := w.sess, w.req, w.lockKind, w.owner, w.count
	e.detachWaiter(w)
	e.freeWaiter(w)
	h := hashName(e, c.bound)
	l := e.find(h, c.bound)
	switch {
	case l != nil && l.live && l.kind != kind:
		e.emit(Failed, sess.id, req, 0, c.name, ErrWrongKind)
		e.maybeFreeSession(sess)
	case kind == PrimMutex && (l == nil || !l.live):
		e.grant(now, e.newLock(h, c.bound, l, PrimMutex), sess, req, 0, owner)
		e.events[len(e.events)-1].Err = err
	case kind == PrimMutex:
		q := e.enqueue(now, l, sess, req, -1, 0)
		q.owner, q.err = owner, err
	default:
		if l == nil || !l.live {
			l = e.newLock(h, c.bound, l, PrimRLock)
		}
		if l.nwait == 0 && l.nholds == 0 {
			e.grantHold(l, sess, req, owner, 1, false).count = count
			e.events[len(e.events)-1].Err = err
		} else {
			q := e.enqueue(now, l, sess, req, -1, 0)
			q.owner, q.n, q.count, q.err = owner, 1, count, err
		}
	}
}
