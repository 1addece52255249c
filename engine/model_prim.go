package engine

import (
	"cmp"
	"slices"
)

// The Model's kinds beyond the mutex: the rules of prim.go, restated with slices and scans.

// AcquireKind follows Engine.AcquireKind.
func (m *Model) AcquireKind(now int64, s SessionID, req uint64, op Op) {
	if op.Prim == PrimMutex {
		m.acquireMutex(now, s, req, op.Name, op.Wait, 0, op.Owner, op.Detect)
		return
	}
	name := op.Name
	if len(name) == 0 || len(name) > m.cfg.MaxName {
		m.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	if _, i := m.findWaiter(s, req); i >= 0 {
		m.emit(Failed, s, req, 0, name, ErrDuplicate)
		return
	}
	if m.holds(s) >= m.cfg.maxHolds() {
		m.emit(Failed, s, req, 0, name, ErrTooManyHolds)
		return
	}
	if op.invalid(m.cfg.MaxName) {
		m.emit(Failed, s, req, 0, name, ErrInvalid)
		return
	}
	key := string(name)
	l := m.state(key, &op)
	if l == nil {
		m.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	switch op.Prim {
	case PrimCondition:
		m.condWait(now, s, req, key, l, &op)
		return
	case PrimEvent:
		m.waitEvent(now, s, req, key, l, op.Wait)
		return
	case PrimBarrier:
		m.arrive(now, s, req, key, l, op.Wait)
		return
	}
	if op.Prim == PrimRLock && len(l.holds) > 0 && l.holds[0].s == s && l.holds[0].owner == op.Owner {
		l.holds[0].count++
		m.emit(Granted, s, req, l.holds[0].token, name, nil)
		return
	}
	n := int64(1)
	if op.Prim.isSem() {
		n = int64(op.N)
	}
	switch {
	case len(l.waiters) == 0 && l.fits(n, op.Shared):
		m.grantHold(key, l, s, req, op.Owner, n, op.Shared)
	case op.Wait == 0:
		m.emit(Failed, s, req, 0, name, ErrTimeout)
		m.settle(key)
	case len(l.waiters) >= m.cfg.MaxWaiters:
		m.emit(Failed, s, req, 0, name, ErrQueueFull)
	case op.Detect && !op.Prim.isSem() && m.deadlock(s, req, op.Owner, key):
	default:
		m.queued++
		w := modelWaiter{s: s, req: req, enq: now, timed: op.Wait > 0, qseq: m.queued, owner: op.Owner, n: n, shared: op.Shared}
		if w.timed {
			w.deadline, w.seq = addSat(now, op.Wait), m.nextSeq()
		}
		l.waiters = append(l.waiters, w)
	}
}

func (l *modelLock) fits(n int64, shared bool) bool {
	switch l.kind {
	case PrimSemaphore, PrimBoundedSemaphore:
		return l.avail >= n
	case PrimRWMutex:
		if len(l.holds) == 0 {
			return true
		}
		return shared && !slices.ContainsFunc(l.holds, func(h modelHold) bool { return !h.shared })
	}
	return len(l.holds) == 0
}

func (m *Model) grantHold(name string, l *modelLock, s SessionID, req, owner uint64, n int64, shared bool) {
	tok := m.token()
	m.grants++
	l.holds = append(l.holds, modelHold{s: s, req: req, token: tok, owner: owner, n: n, count: 1, shared: shared, grantSeq: m.grants})
	if l.kind.isSem() {
		l.avail -= n
	}
	m.emit(Granted, s, req, tok, []byte(name), nil)
}

// state follows Engine.state.
func (m *Model) state(key string, op *Op) *modelLock {
	l := m.locks[key]
	if l == nil {
		l = &modelLock{kind: op.Prim, param: op.Value, avail: int64(op.Value)}
		if op.Prim == PrimCondition {
			l.bound = string(op.Lock)
		}
		m.locks[key] = l
		m.order = append(m.order, key)
		return l
	}
	if l.kind != op.Prim || (op.Prim.hasParam() && l.param != op.Value) || (op.Prim == PrimCondition && l.bound != string(op.Lock)) {
		return nil
	}
	return l
}

// settle grants the waiters that fit, in order (every waiter of a set Event), and forgets a
// name with nothing held, awaited or open.
func (m *Model) settle(name string) {
	l := m.locks[name]
	switch l.kind {
	case PrimEvent:
		for l.flag && len(l.waiters) > 0 {
			w := l.waiters[0]
			l.waiters = l.waiters[1:]
			m.emit(Granted, w.s, w.req, 0, []byte(name), nil)
		}
	case PrimBarrier, PrimCondition:
	default:
		for len(l.waiters) > 0 && l.fits(l.waiters[0].n, l.waiters[0].shared) {
			w := l.waiters[0]
			l.waiters = l.waiters[1:]
			m.grantHold(name, l, w.s, w.req, w.owner, w.n, w.shared)
			if w.count > 0 {
				l.holds[len(l.holds)-1].count = w.count
				m.events[len(m.events)-1].Err = w.err
			}
		}
	}
	if len(l.holds) == 0 && len(l.waiters) == 0 && l.nopen == 0 {
		delete(m.locks, name)
		m.order = slices.DeleteFunc(m.order, func(n string) bool { return n == name })
	}
}

// dropHold removes hold i of l, returning its permits.
func (l *modelLock) dropHold(i int) {
	if l.kind.isSem() {
		l.avail += l.holds[i].n
	}
	l.holds = slices.Delete(l.holds, i, i+1)
}

// ReleaseKind follows Engine.ReleaseKind.
func (m *Model) ReleaseKind(now int64, s SessionID, req uint64, op Op) {
	if op.Prim == PrimMutex {
		m.Release(now, s, req, op.Name, op.Token)
		return
	}
	name := op.Name
	if len(name) == 0 || len(name) > m.cfg.MaxName {
		m.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	if op.invalid(m.cfg.MaxName) || !op.Prim.holds() {
		m.emit(Failed, s, req, 0, name, ErrInvalid)
		return
	}
	key := string(name)
	l := m.locks[key]
	if l != nil && (l.kind != op.Prim || (op.Prim.hasParam() && l.param != op.Value)) {
		m.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	switch op.Prim {
	case PrimRLock:
		if l == nil || len(l.holds) == 0 || l.holds[0].s != s || l.holds[0].owner != op.Owner {
			m.emit(Failed, s, req, 0, name, ErrNotOwner)
			return
		}
		m.emit(Done, s, req, l.holds[0].token, name, nil)
		if l.holds[0].count--; l.holds[0].count == 0 {
			l.dropHold(0)
			m.settle(key)
		}
	case PrimRWMutex:
		i := -1
		if l != nil {
			i = slices.IndexFunc(l.holds, func(h modelHold) bool { return h.s == s && h.token == op.Token })
		}
		if i < 0 {
			m.emit(Failed, s, req, 0, name, ErrNotHeld)
			return
		}
		m.emit(Done, s, req, l.holds[i].token, name, nil)
		l.dropHold(i)
		m.settle(key)
	default:
		m.releasePermits(s, req, op, key, l)
	}
}

func (m *Model) releasePermits(s SessionID, req uint64, op Op, key string, l *modelLock) {
	n := int64(op.N)
	var held int64
	if l != nil {
		for _, h := range l.holds {
			held += h.n
		}
	}
	if n > held && op.Prim == PrimBoundedSemaphore {
		m.emit(Failed, s, req, 0, op.Name, ErrOverRelease)
		return
	}
	if l == nil {
		m.emit(Done, s, req, 0, op.Name, nil)
		return
	}
	left := n
	take := func(i int) {
		k := min(l.holds[i].n, left)
		left -= k
		l.avail += k
		if l.holds[i].n -= k; l.holds[i].n == 0 {
			l.holds = slices.Delete(l.holds, i, i+1)
		}
	}
	for i := len(l.holds) - 1; i >= 0 && left > 0; i-- { // own holds, newest first
		if l.holds[i].s == s {
			take(i)
		}
	}
	for left > 0 && len(l.holds) > 0 { // then others', oldest first
		take(0)
	}
	l.avail += left
	m.emit(Done, s, req, 0, op.Name, nil)
	m.settle(key)
}

// closeHolds ends every hold of s on names of kinds beyond the mutex, in grant order.
func (m *Model) closeHolds(s SessionID) {
	type ref struct {
		name string
		seq  uint64
	}
	var refs []ref
	for name, l := range m.locks {
		for _, h := range l.holds {
			if h.s == s {
				refs = append(refs, ref{name, h.grantSeq})
			}
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(a.seq, b.seq) })
	for _, r := range refs {
		l := m.locks[r.name]
		l.dropHold(slices.IndexFunc(l.holds, func(h modelHold) bool { return h.grantSeq == r.seq }))
		m.settle(r.name)
	}
}
