package engine

import "slices"

// The Model's Conditions: the rules of cond.go, restated.

// owns follows Engine.owns.
func (m *Model) owns(s SessionID, op *Op) bool {
	l := m.locks[string(op.Lock)]
	switch {
	case l == nil:
		return false
	case l.kind == PrimMutex:
		return l.holder == s && l.token == op.Token
	case l.kind == PrimRLock:
		return len(l.holds) > 0 && l.holds[0].s == s && l.holds[0].owner == op.Owner
	}
	return false
}

func (m *Model) condWait(now int64, s SessionID, req uint64, key string, c *modelLock, op *Op) {
	if !m.owns(s, op) {
		m.emit(Failed, s, req, 0, []byte(key), ErrNotOwner)
		m.settle(key)
		return
	}
	if len(c.waiters) >= m.cfg.MaxWaiters {
		m.emit(Failed, s, req, 0, []byte(key), ErrQueueFull)
		return
	}
	lock := string(op.Lock)
	l := m.locks[lock]
	m.queued++
	w := modelWaiter{s: s, req: req, enq: now, timed: op.Wait > 0, qseq: m.queued, lockKind: l.kind, owner: op.Owner}
	if w.timed {
		w.deadline, w.seq = addSat(now, op.Wait), m.nextSeq()
	}
	if l.kind == PrimMutex {
		c.waiters = append(c.waiters, w)
		m.handOver(now, lock)
	} else {
		w.count = l.holds[0].count
		c.waiters = append(c.waiters, w)
		l.dropHold(0)
		m.settle(lock)
	}
	if op.Wait == 0 {
		m.reacquire(now, key, len(c.waiters)-1, ErrTimeout)
		m.settle(key)
	}
}

// reacquire follows Engine.reacquire for waiter i of the Condition cname.
func (m *Model) reacquire(now int64, cname string, i int, err error) {
	c := m.locks[cname]
	w := c.waiters[i]
	c.waiters = slices.Delete(c.waiters, i, i+1)
	l := m.locks[c.bound]
	newLock := func(kind Prim) *modelLock {
		l := &modelLock{kind: kind}
		m.locks[c.bound] = l
		m.order = append(m.order, c.bound)
		return l
	}
	m.queued++
	q := modelWaiter{s: w.s, req: w.req, enq: now, qseq: m.queued, owner: w.owner, n: 1, count: w.count, err: err}
	switch {
	case l != nil && l.kind != w.lockKind:
		m.emit(Failed, w.s, w.req, 0, []byte(cname), ErrWrongKind)
	case w.lockKind == PrimMutex && l == nil:
		nl := newLock(PrimMutex)
		m.grant(now, c.bound, nl, w.s, w.req, 0)
		m.events[len(m.events)-1].Err = err
		nl.holderOwner = w.owner
	case w.lockKind == PrimMutex:
		q.n, q.count = 0, 0
		l.waiters = append(l.waiters, q)
	default:
		if l == nil {
			l = newLock(PrimRLock)
		}
		if len(l.waiters) == 0 && len(l.holds) == 0 {
			m.grantHold(c.bound, l, w.s, w.req, w.owner, 1, false)
			l.holds[len(l.holds)-1].count = w.count
			m.events[len(m.events)-1].Err = err
		} else {
			l.waiters = append(l.waiters, q)
		}
	}
}
