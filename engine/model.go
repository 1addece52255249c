package engine

import (
	"cmp"
	"slices"
	"time"
)

// Model is the reference twin of Engine: the same rules and the same method set, written
// with plain maps and slices and linear scans so that it is obviously correct rather than
// fast. Tests drive both identically and require identical events.
// Like Engine, a Model is not safe for concurrent use.
type Model struct {
	cfg     Config
	epoch   uint64
	counter uint64
	seq     uint64 // arming sequence of deadlines, same counting as Engine
	grants  uint64 // grant sequence, to release a closing session's locks in grant order
	queued  uint64 // queue sequence, to drop a closing session's waits in queue order
	locks   map[string]*modelLock
	opens   []modelOpen // Open records, oldest first
	order   []string    // live names in the order they became live
	events  []Event
}

type modelLock struct {
	holder      SessionID
	holderReq   uint64
	holderOwner uint64
	token       uint64
	grantSeq    uint64
	barges      int // re-takes in a row by the holder while others waited
	leased      bool
	leaseAt     int64
	leaseSeq    uint64
	waiters     []modelWaiter // FIFO

	kind  Prim
	param uint32
	avail int64
	holds []modelHold // kinds other than the mutex, in grant order
	flag  bool        // event set; barrier broken
	nopen int
	bound string // condition: its lock
}

type modelOpen struct {
	s    SessionID
	name string
}

type modelHold struct {
	s        SessionID
	req      uint64
	token    uint64
	owner    uint64
	n        int64
	count    int
	shared   bool
	grantSeq uint64
}

type modelWaiter struct {
	s        SessionID
	req      uint64
	ttl      time.Duration
	enq      int64
	timed    bool
	deadline int64
	seq      uint64
	qseq     uint64
	owner    uint64
	n        int64
	shared   bool
	lockKind Prim  // condition wait: the kind of its lock
	count    int   // condition wait: the RLock depth to restore
	err      error // what the Granted of a re-acquiring condition wait reports
}

// NewModel returns a Model, or an error wrapping ErrConfig when cfg is invalid.
func NewModel(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, epoch: uint64(cfg.Epoch), locks: map[string]*modelLock{}}, nil
}

func (m *Model) emit(k Kind, s SessionID, req, tok uint64, name []byte, err error) {
	if len(name) > 0 {
		name = slices.Clone(name)
	} else {
		name = nil
	}
	m.events = append(m.events, Event{Kind: k, Session: s, Req: req, Token: tok, Name: name, Err: err})
}

func (m *Model) nextSeq() uint64 { m.seq++; return m.seq }

func (m *Model) token() uint64 {
	if m.counter == counterMask {
		m.epoch++
		m.counter = 0
		m.emit(EpochBumped, 0, 0, m.epoch, nil, nil)
	}
	m.counter++
	return m.epoch<<CounterBits | m.counter
}

func (m *Model) grant(now int64, name string, l *modelLock, s SessionID, req uint64, ttl time.Duration) {
	tok := m.token()
	m.grants++
	l.holder, l.holderReq, l.token, l.grantSeq = s, req, tok, m.grants
	l.barges = 0
	l.leased = ttl > 0
	if l.leased {
		l.leaseAt, l.leaseSeq = addSat(now, ttl), m.nextSeq()
	}
	m.emit(Granted, s, req, tok, []byte(name), nil)
}

// handOver gives the (now free) lock to its first waiter, or forgets it.
func (m *Model) handOver(now int64, name string) {
	l := m.locks[name]
	if len(l.waiters) == 0 {
		delete(m.locks, name)
		m.order = slices.DeleteFunc(m.order, func(n string) bool { return n == name })
		return
	}
	w := l.waiters[0]
	l.waiters = l.waiters[1:]
	m.grant(now, name, l, w.s, w.req, w.ttl)
	m.events[len(m.events)-1].Err = w.err
	l.holderOwner = w.owner
}

func (m *Model) findWaiter(s SessionID, req uint64) (string, int) {
	for name, l := range m.locks {
		for i, w := range l.waiters {
			if w.s == s && w.req == req {
				return name, i
			}
		}
	}
	return "", -1
}

// Acquire follows Engine.Acquire.
func (m *Model) Acquire(now int64, s SessionID, req uint64, name []byte, wait, ttl time.Duration) {
	m.acquireMutex(now, s, req, name, wait, ttl, 0, false)
}

func (m *Model) acquireMutex(now int64, s SessionID, req uint64, name []byte, wait, ttl time.Duration, owner uint64, detect bool) {
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
	n := string(name)
	l := m.locks[n]
	if l != nil && l.kind != PrimMutex {
		m.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	switch {
	case l == nil:
		l = &modelLock{}
		m.locks[n] = l
		m.order = append(m.order, n)
		m.grant(now, n, l, s, req, ttl)
		l.holderOwner = owner
	case wait == 0:
		m.emit(Failed, s, req, 0, name, ErrTimeout)
	case len(l.waiters) >= m.cfg.MaxWaiters:
		m.emit(Failed, s, req, 0, name, ErrQueueFull)
	case detect && m.deadlock(s, req, owner, n):
	default:
		m.queued++
		w := modelWaiter{s: s, req: req, ttl: ttl, enq: now, timed: wait > 0, qseq: m.queued, owner: owner}
		if w.timed {
			w.deadline, w.seq = addSat(now, wait), m.nextSeq()
		}
		l.waiters = append(l.waiters, w)
	}
}

// holds counts the locks s holds plus its waiting acquires.
func (m *Model) holds(s SessionID) int {
	n := 0
	for _, o := range m.opens {
		if o.s == s {
			n++
		}
	}
	for _, l := range m.locks {
		if l.kind == PrimMutex && l.holder == s {
			n++
		}
		for _, h := range l.holds {
			if h.s == s {
				n++
			}
		}
		for _, w := range l.waiters {
			if w.s == s {
				n++
			}
		}
	}
	return n
}

func (m *Model) held(s SessionID, name []byte, token uint64) *modelLock {
	l := m.locks[string(name)]
	if l == nil || l.kind != PrimMutex || l.holder != s || l.token != token {
		return nil
	}
	return l
}

// notHeld follows Engine's notHeld.
func (m *Model) notHeld(name []byte) error {
	if l := m.locks[string(name)]; l != nil && l.kind != PrimMutex {
		return ErrWrongKind
	}
	return ErrNotHeld
}

// Release follows Engine.Release.
func (m *Model) Release(now int64, s SessionID, req uint64, name []byte, token uint64) {
	if m.held(s, name, token) == nil {
		m.emit(Failed, s, req, 0, name, m.notHeld(name))
		return
	}
	m.emit(Done, s, req, token, name, nil)
	m.handOver(now, string(name))
}

// ReleaseAcquire follows Engine.ReleaseAcquire.
func (m *Model) ReleaseAcquire(now int64, s SessionID, relReq uint64, name []byte, token uint64, acqReq uint64, wait, ttl time.Duration) {
	l := m.held(s, name, token)
	if _, dup := m.findWaiter(s, acqReq); l == nil || len(l.waiters) == 0 || l.barges >= m.cfg.Handoff.Barge || dup >= 0 {
		m.Release(now, s, relReq, name, token)
		m.Acquire(now, s, acqReq, name, wait, ttl)
		return
	}
	m.emit(Done, s, relReq, token, name, nil)
	streak := l.barges
	m.grant(now, string(name), l, s, acqReq, ttl)
	l.holderOwner = 0
	l.barges = streak + 1
}

// Renew follows Engine.Renew.
func (m *Model) Renew(now int64, s SessionID, req uint64, name []byte, token uint64, ttl time.Duration) {
	l := m.held(s, name, token)
	if l == nil {
		m.emit(Failed, s, req, 0, name, m.notHeld(name))
		return
	}
	l.leased = ttl > 0
	if l.leased {
		l.leaseAt, l.leaseSeq = addSat(now, ttl), m.nextSeq()
	}
	m.emit(Done, s, req, token, name, nil)
}

// Cancel follows Engine.Cancel.
func (m *Model) Cancel(now int64, s SessionID, req uint64, target uint64) {
	if name, i := m.findWaiter(s, target); i >= 0 {
		l := m.locks[name]
		l.waiters = slices.Delete(l.waiters, i, i+1)
		m.emit(Failed, s, target, 0, []byte(name), ErrCancelled)
		if l.kind != PrimMutex {
			m.left(name)
		}
	}
	m.emit(Done, s, req, 0, nil, nil)
}

// CloseSession follows Engine.CloseSession.
func (m *Model) CloseSession(now int64, s SessionID) {
	type wait struct {
		name string
		qseq uint64
	}
	var held []string
	var waits []wait
	for name, l := range m.locks {
		for _, w := range l.waiters {
			if w.s == s {
				waits = append(waits, wait{name, w.qseq})
			}
		}
		l.waiters = slices.DeleteFunc(l.waiters, func(w modelWaiter) bool { return w.s == s })
		if l.kind == PrimMutex && l.holder == s {
			held = append(held, name)
		}
	}
	slices.SortFunc(waits, func(a, b wait) int { return cmp.Compare(a.qseq, b.qseq) })
	var touched []string
	for _, w := range waits {
		if m.locks[w.name].kind != PrimMutex && !slices.Contains(touched, w.name) {
			touched = append(touched, w.name)
		}
	}
	for _, name := range touched {
		m.left(name)
	}
	slices.SortFunc(held, func(a, b string) int { return cmp.Compare(m.locks[a].grantSeq, m.locks[b].grantSeq) })
	for _, name := range held {
		m.handOver(now, name)
	}
	m.closeHolds(s)
	for i := 0; i < len(m.opens); {
		if o := m.opens[i]; o.s == s {
			m.opens = slices.Delete(m.opens, i, i+1)
			m.locks[o.name].nopen--
			m.settle(o.name)
			continue
		}
		i++
	}
}

// Tick follows Engine.Tick.
func (m *Model) Tick(now int64) {
	for {
		name, i, when, ok := m.earliest()
		if !ok || when > now {
			return
		}
		l := m.locks[name]
		if i >= 0 && l.kind == PrimCondition {
			m.reacquire(now, name, i, ErrTimeout)
			m.settle(name)
			continue
		}
		if i >= 0 {
			w := l.waiters[i]
			l.waiters = slices.Delete(l.waiters, i, i+1)
			m.emit(Failed, w.s, w.req, 0, []byte(name), ErrTimeout)
			if l.kind != PrimMutex {
				m.left(name)
			}
			continue
		}
		m.emit(Lost, l.holder, l.holderReq, l.token, []byte(name), nil)
		m.handOver(now, name)
	}
}

// earliest finds the pending deadline with the smallest (deadline, seq): a waiter's
// index, or i = -1 for the lease of the name's holder.
func (m *Model) earliest() (name string, i int, when int64, ok bool) {
	var seq uint64
	better := func(w int64, s uint64) bool { return !ok || w < when || (w == when && s < seq) }
	for n, l := range m.locks {
		if l.leased && better(l.leaseAt, l.leaseSeq) {
			name, i, when, seq, ok = n, -1, l.leaseAt, l.leaseSeq, true
		}
		for j, w := range l.waiters {
			if w.timed && better(w.deadline, w.seq) {
				name, i, when, seq, ok = n, j, w.deadline, w.seq, true
			}
		}
	}
	return name, i, when, ok
}

// NextDeadline follows Engine.NextDeadline.
func (m *Model) NextDeadline() (int64, bool) {
	_, _, when, ok := m.earliest()
	return when, ok
}

// Events follows Engine.Events; the Name slices are the Model's own copies.
func (m *Model) Events() []Event { return m.events }

// ClearEvents follows Engine.ClearEvents.
func (m *Model) ClearEvents() { m.events = nil }

func (m *Model) status(now int64, name string) LockStatus {
	l := m.locks[name]
	st := LockStatus{Name: name, Kind: l.kind, Holder: l.holder, HolderReq: l.holderReq, Token: l.token, Waiters: len(l.waiters)}
	if l.kind == PrimMutex {
		st.Holders = 1
	} else if len(l.holds) > 0 {
		h := l.holds[0]
		st.Holder, st.HolderReq, st.Token, st.Holders = h.s, h.req, h.token, len(l.holds)
	}
	switch {
	case l.kind.isSem():
		st.Value = l.avail
	case l.flag:
		st.Value = 1
	}
	if len(l.waiters) > 0 {
		st.OldestWait = time.Duration(now - l.waiters[0].enq)
	}
	if l.leased {
		st.LeaseLeft = time.Duration(l.leaseAt - now)
	}
	return st
}

// Status follows Engine.Status.
func (m *Model) Status(now int64, name []byte) (LockStatus, bool) {
	if m.locks[string(name)] == nil {
		return LockStatus{}, false
	}
	return m.status(now, string(name)), true
}

// Locks follows Engine.Locks.
func (m *Model) Locks(now int64, fn func(LockStatus) bool) {
	for _, n := range m.order {
		if !fn(m.status(now, n)) {
			return
		}
	}
}

// Stats follows Engine.Stats.
func (m *Model) Stats() Stats {
	sessions := map[SessionID]bool{}
	st := Stats{Locks: len(m.locks)}
	for _, l := range m.locks {
		if l.kind == PrimMutex {
			sessions[l.holder] = true
		}
		for _, h := range l.holds {
			sessions[h.s] = true
		}
		for _, w := range l.waiters {
			sessions[w.s] = true
			st.Waiters++
		}
	}
	for _, o := range m.opens {
		sessions[o.s] = true
	}
	st.Sessions = len(sessions)
	return st
}

// Epoch follows Engine.Epoch.
func (m *Model) Epoch() uint32 { return uint32(m.epoch) }
