package engine

import (
	"slices"
	"time"
)

// The Model's Events, Barriers and Open records: the rules of signal.go, restated.

// left follows Engine.left.
func (m *Model) left(name string) {
	if l := m.locks[name]; l.kind == PrimBarrier {
		m.breakBarrier(name, l)
	}
	m.settle(name)
}

// Open follows Engine.Open.
func (m *Model) Open(now int64, s SessionID, req uint64, op Op) {
	name := op.Name
	if len(name) == 0 || len(name) > m.cfg.MaxName {
		m.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	if m.holds(s) >= m.cfg.maxHolds() {
		m.emit(Failed, s, req, 0, name, ErrTooManyHolds)
		return
	}
	if op.invalidOpen(m.cfg.MaxName) {
		m.emit(Failed, s, req, 0, name, ErrInvalid)
		return
	}
	l := m.state(string(name), &op)
	if l == nil {
		m.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	l.nopen++
	m.opens = append(m.opens, modelOpen{s, string(name)})
	m.emit(Done, s, req, 0, name, nil)
}

// CloseName follows Engine.CloseName.
func (m *Model) CloseName(now int64, s SessionID, req uint64, op Op) {
	i := slices.Index(m.opens, modelOpen{s, string(op.Name)})
	if i < 0 {
		m.emit(Failed, s, req, 0, op.Name, ErrNotHeld)
		return
	}
	m.opens = slices.Delete(m.opens, i, i+1)
	m.emit(Done, s, req, 0, op.Name, nil)
	m.locks[string(op.Name)].nopen--
	m.settle(string(op.Name))
}

// Signal follows Engine.Signal.
func (m *Model) Signal(now int64, s SessionID, req uint64, act Action, op Op) {
	name := op.Name
	if len(name) == 0 || len(name) > m.cfg.MaxName {
		m.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	kind, ok := act.kind()
	if !ok || kind != op.Prim || op.invalid(m.cfg.MaxName) {
		m.emit(Failed, s, req, 0, name, ErrInvalid)
		return
	}
	key := string(name)
	l := m.state(key, &op)
	if l == nil {
		m.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	if kind == PrimCondition && !m.owns(s, &op) {
		m.emit(Failed, s, req, 0, name, ErrNotOwner)
		m.settle(key)
		return
	}
	m.emit(Done, s, req, 0, name, nil)
	switch act {
	case ActSet:
		l.flag = true
	case ActClear:
		l.flag = false
	case ActAbort:
		m.breakBarrier(key, l)
	case ActReset:
		m.breakBarrier(key, l)
		l.flag = false
	case ActNotify:
		for n := max(int(op.N), 1); n > 0 && len(l.waiters) > 0; n-- {
			m.reacquire(now, key, 0, nil)
		}
	case ActNotifyAll:
		for len(l.waiters) > 0 {
			m.reacquire(now, key, 0, nil)
		}
	}
	m.settle(key)
}

func (m *Model) queue(now int64, s SessionID, req uint64, l *modelLock, wait time.Duration) {
	m.queued++
	w := modelWaiter{s: s, req: req, enq: now, timed: wait > 0, qseq: m.queued, n: 1}
	if w.timed {
		w.deadline, w.seq = addSat(now, wait), m.nextSeq()
	}
	l.waiters = append(l.waiters, w)
}

func (m *Model) waitEvent(now int64, s SessionID, req uint64, key string, l *modelLock, wait time.Duration) {
	switch {
	case l.flag:
		m.emit(Granted, s, req, 0, []byte(key), nil)
		m.settle(key)
	case wait == 0:
		m.emit(Failed, s, req, 0, []byte(key), ErrTimeout)
		m.settle(key)
	case len(l.waiters) >= m.cfg.MaxWaiters:
		m.emit(Failed, s, req, 0, []byte(key), ErrQueueFull)
	default:
		m.queue(now, s, req, l, wait)
	}
}

func (m *Model) arrive(now int64, s SessionID, req uint64, key string, l *modelLock, wait time.Duration) {
	switch {
	case l.flag:
		m.emit(Failed, s, req, 0, []byte(key), ErrBroken)
	case len(l.waiters)+1 >= int(l.param):
		for i, w := range l.waiters {
			m.emit(Granted, w.s, w.req, 0, []byte(key), nil)
			m.events[len(m.events)-1].Value = int64(i)
		}
		m.emit(Granted, s, req, 0, []byte(key), nil)
		m.events[len(m.events)-1].Value = int64(len(l.waiters))
		l.waiters = nil
	case wait == 0:
		m.emit(Failed, s, req, 0, []byte(key), ErrTimeout)
		m.breakBarrier(key, l)
	case len(l.waiters) >= m.cfg.MaxWaiters:
		m.emit(Failed, s, req, 0, []byte(key), ErrQueueFull)
		return
	default:
		m.queue(now, s, req, l, wait)
		return
	}
	m.settle(key)
}

func (m *Model) breakBarrier(key string, l *modelLock) {
	l.flag = true
	for _, w := range l.waiters {
		m.emit(Failed, w.s, w.req, 0, []byte(key), ErrBroken)
	}
	l.waiters = nil
}
