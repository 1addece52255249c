package engine

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"time"
)

// Bounds on memory kept for reuse, so that a burst does not pin memory forever.
const (
	maxFreeList   = 4096    // recycled lockState / waiter / session structs kept
	maxKeptRing   = 64      // a recycled lockState keeps its ring only up to this capacity
	maxKeptEvents = 1 << 14 // ClearEvents drops a larger events buffer
	maxKeptArena  = 1 << 20 // ClearEvents drops a larger name arena
)

// lockState is one live name: a holder and a FIFO ring of waiters.
// It is live only while it has a holder; freed states are recycled with their buffers
// (the last one freed waits in the table as the idle lock, see freeLock).
type lockState struct {
	name  []byte // owned copy; its buffer survives recycling
	hash  uint64
	chain *lockState // next state with the same hash

	lprev, lnext *lockState // engine's live list

	holder      *session
	holderReq   uint64
	holderOwner uint64 // the holder's Op.Owner (0 through Acquire), for deadlock detection
	token       uint64
	barges      int        // times in a row the holder re-took the lock while others waited (Handoff)
	lease       timer      // armed iff the holder has a lease
	sprev       *lockState // holder session's held list, in grant order
	snext       *lockState

	kind Prim
	live bool // held or awaited: in the live list (the idle lock is not)
	mark bool // queued in Engine.touched by CloseSession

	// Kinds other than the mutex keep their grants as holds.
	holdHead, holdTail *hold
	nholds             int
	param              uint32 // semaphore: initial value
	avail              int64  // semaphore: permits free (past param after a surplus release)
	held               int64  // semaphore: permits held, the sum over holds
	excl               bool   // rwmutex: the hold is exclusive
	flag               bool   // event: set; barrier: broken
	nopen              int    // sessions' Open records on this name

	bound []byte // condition: the name of its lock; its buffer survives recycling

	ring  []*waiter // power-of-two ring; nil slots are withdrawn waiters
	head  uint64    // absolute position of the oldest slot; that slot is live when nwait > 0
	tail  uint64    // absolute position one past the newest slot
	nwait int       // live waiters
}

// waiter is one queued acquire.
type waiter struct {
	sess   *session
	req    uint64
	ttl    time.Duration
	enq    int64 // when it was queued
	lock   *lockState
	pos    uint64 // absolute ring position
	tm     timer  // wait timeout; armed iff wait > 0
	owner  uint64 // RLock owner
	n      int64  // semaphore permits wanted; 1 otherwise
	shared bool   // RWMutex shared request
	// A Condition wait: the kind of its lock and, for an RLock, the depth to restore; when it
	// queues again for the lock, err is what its Granted reports (ErrTimeout: it timed out).
	lockKind Prim
	count    int
	err      error
	visit    uint64 // deadlock walk generation that last crossed this wait
	sprev    *waiter
	snext    *waiter // session's wait list
}

// session is a client session with something held or awaited; freed when it has neither.
type session struct {
	id                 SessionID
	n                  int // locks held + waits queued; bounded by Config.MaxHolds
	heldHead, heldTail *lockState
	waitHead, waitTail *waiter
	holdHead, holdTail *hold // holds on names of other kinds than the mutex, in grant order
	openHead, openTail *hold // Open records (only l and the session links are used)
}

type waitKey struct {
	s   SessionID
	req uint64
}

func (l *lockState) status(now int64) LockStatus {
	st := LockStatus{Name: string(l.name), Kind: l.kind, Waiters: l.nwait}
	if l.holder != nil {
		st.Holder, st.HolderReq, st.Token, st.Holders = l.holder.id, l.holderReq, l.token, 1
	}
	if hd := l.holdHead; hd != nil {
		st.Holder, st.HolderReq, st.Token, st.Holders = hd.sess.id, hd.req, hd.token, l.nholds
	}
	switch {
	case l.kind.isSem():
		st.Value = l.avail
	case l.flag: // a set Event, a broken Barrier
		st.Value = 1
	}
	if l.nwait > 0 {
		st.OldestWait = time.Duration(now - l.front().enq)
	}
	if l.lease.armed() {
		st.LeaseLeft = time.Duration(l.lease.when - now)
	}
	return st
}

// --- name table -------------------------------------------------------------

func (e *Engine) lookup(name []byte) *lockState {
	if len(name) == 0 || len(name) > e.cfg.MaxName {
		return nil
	}
	return e.find(hashName(e, name), name)
}

// hashName keys the name table. maphash runs the runtime's AES-based hash over the bytes,
// with no string conversion and no allocation.
func hashName(e *Engine, name []byte) uint64 { return maphash.Bytes(e.seed, name) & e.hashMask }

func (e *Engine) find(h uint64, name []byte) *lockState {
	for l := e.locks[h]; l != nil; l = l.chain {
		if bytes.Equal(l.name, name) {
			return l
		}
	}
	return nil
}

// newLock makes name live: it revives the idle lock of that name or takes a recycled state.
func (e *Engine) newLock(h uint64, name []byte, l *lockState, kind Prim) *lockState {
	if l == nil {
		l = e.allocLock(h, name)
	} else {
		e.idleLock = nil // l was the idle lock: already in the table
	}
	l.kind, l.live = kind, true
	l.lprev, l.lnext = e.liveTail, nil
	if e.liveTail != nil {
		e.liveTail.lnext = l
	} else {
		e.liveHead = l
	}
	e.liveTail = l
	e.nlocks++
	return l
}

func (e *Engine) allocLock(h uint64, name []byte) *lockState {
	var l *lockState
	if n := len(e.freeLocks); n > 0 {
		l = e.freeLocks[n-1]
		e.freeLocks[n-1] = nil
		e.freeLocks = e.freeLocks[:n-1]
	} else {
		l = &lockState{}
		l.lease.l = l
		l.lease.idx = -1
	}
	l.name = append(l.name[:0], name...)
	l.hash = h
	l.chain = e.locks[h]
	e.locks[h] = l
	return l
}

// freeLock forgets a lock with no holder and no waiters. The most recently freed lock stays
// in the table as the idle lock, so a session cycling on one name costs no table insert and
// delete per cycle; it counts nowhere (Stats, Status, Locks) and the next one evicts it.
func (e *Engine) freeLock(l *lockState) {
	if l.lprev != nil {
		l.lprev.lnext = l.lnext
	} else {
		e.liveHead = l.lnext
	}
	if l.lnext != nil {
		l.lnext.lprev = l.lprev
	} else {
		e.liveTail = l.lprev
	}
	l.lprev, l.lnext = nil, nil
	l.head, l.tail = 0, 0
	l.live, l.param, l.avail, l.held, l.excl, l.flag = false, 0, 0, 0, false, false
	e.nlocks--
	if e.idleLock != nil {
		e.evictLock(e.idleLock)
	}
	e.idleLock = l
}

// evictLock removes a dead lock from the table and recycles it.
func (e *Engine) evictLock(l *lockState) {
	if p := e.locks[l.hash]; p == l {
		if l.chain == nil {
			delete(e.locks, l.hash)
		} else {
			e.locks[l.hash] = l.chain
		}
	} else {
		for p.chain != l {
			p = p.chain
		}
		p.chain = l.chain
	}
	l.chain = nil
	if len(l.ring) > maxKeptRing {
		l.ring = nil
	}
	if len(e.freeLocks) < maxFreeList {
		e.freeLocks = append(e.freeLocks, l)
	}
}

// --- sessions ---------------------------------------------------------------

// session returns the state of id, creating it (or reviving the idle one) as needed.
func (e *Engine) session(id SessionID) *session { return e.revive(e.sessions[id], id) }

// revive is session for a caller that already looked id up: s is e.sessions[id], maybe nil.
func (e *Engine) revive(s *session, id SessionID) *session {
	if s != nil {
		if s == e.idleSess {
			e.idleSess = nil
		}
		return s
	}
	if n := len(e.freeSessions); n > 0 {
		s = e.freeSessions[n-1]
		e.freeSessions[n-1] = nil
		e.freeSessions = e.freeSessions[:n-1]
	} else {
		s = &session{}
	}
	s.id, s.n = id, 0
	e.sessions[id] = s
	return s
}

// maybeFreeSession forgets s if it holds and awaits nothing. Like locks, the most recently
// emptied session stays in the map as the idle session (not counted) to spare map churn.
func (e *Engine) maybeFreeSession(s *session) {
	if s.heldHead != nil || s.waitHead != nil || s.holdHead != nil || s.openHead != nil || s == e.idleSess {
		return
	}
	if e.idleSess != nil {
		e.evictSession(e.idleSess)
	}
	e.idleSess = s
}

func (e *Engine) evictSession(s *session) {
	if s == e.idleSess {
		e.idleSess = nil
	}
	delete(e.sessions, s.id)
	if len(e.freeSessions) < maxFreeList {
		e.freeSessions = append(e.freeSessions, s)
	}
}

// --- holding ------------------------------------------------------------------

// The session's and the lock's intrusive lists are appended to in one place each, so grant,
// enqueue, grantHold and Restore cannot link them differently. Each append counts against the
// session's MaxHolds (sess.n) where the record is the session's.

// linkHeld appends l to the mutexes sess holds.
func (sess *session) linkHeld(l *lockState) {
	l.sprev, l.snext = sess.heldTail, nil
	if sess.heldTail != nil {
		sess.heldTail.snext = l
	} else {
		sess.heldHead = l
	}
	sess.heldTail = l
	sess.n++
}

// linkWait appends w to the waits of sess.
func (sess *session) linkWait(w *waiter) {
	w.sprev, w.snext = sess.waitTail, nil
	if sess.waitTail != nil {
		sess.waitTail.snext = w
	} else {
		sess.waitHead = w
	}
	sess.waitTail = w
	sess.n++
}

// linkHold appends hd to the holds (and opens) of sess.
func (sess *session) linkHold(hd *hold) {
	hd.sprev, hd.snext = sess.holdTail, nil
	if sess.holdTail != nil {
		sess.holdTail.snext = hd
	} else {
		sess.holdHead = hd
	}
	sess.holdTail = hd
	sess.n++
}

// linkOpen appends the Open record o to the opens of sess (o.l counts it in nopen).
func (sess *session) linkOpen(o *hold) {
	o.sprev, o.snext = sess.openTail, nil
	if sess.openTail != nil {
		sess.openTail.snext = o
	} else {
		sess.openHead = o
	}
	sess.openTail = o
	sess.n++
	o.l.nopen++
}

// linkHold appends hd to the holds of l.
func (l *lockState) linkHold(hd *hold) {
	hd.lprev, hd.lnext = l.holdTail, nil
	if l.holdTail != nil {
		l.holdTail.lnext = hd
	} else {
		l.holdHead = hd
	}
	l.holdTail = hd
	l.nholds++
}

// grant makes sess the holder of l (which has none) under a fresh token.
func (e *Engine) grant(now int64, l *lockState, sess *session, req uint64, ttl time.Duration, owner uint64) {
	tok := e.nextToken() // may emit EpochBumped, which must precede the Granted
	l.holder, l.holderReq, l.token, l.holderOwner = sess, req, tok, owner
	l.barges = 0 // a new streak; ReleaseAcquire sets its own count after this
	sess.linkHeld(l)
	if ttl > 0 {
		e.arm(&l.lease, addSat(now, ttl))
	}
	e.emit(Granted, sess.id, req, tok, l.name, nil)
}

// detachHolder removes the holder of l; the caller frees the session if it became empty.
func (e *Engine) detachHolder(l *lockState) {
	s := l.holder
	s.n--
	if l.sprev != nil {
		l.sprev.snext = l.snext
	} else {
		s.heldHead = l.snext
	}
	if l.snext != nil {
		l.snext.sprev = l.sprev
	} else {
		s.heldTail = l.sprev
	}
	l.sprev, l.snext = nil, nil
	l.holder, l.holderReq, l.token, l.barges = nil, 0, 0, 0
	e.timers.remove(&l.lease)
}

// grantNext hands the free lock l to its oldest waiter, or forgets l when nobody waits.
func (e *Engine) grantNext(now int64, l *lockState) {
	if l.nwait == 0 {
		e.freeLock(l)
		return
	}
	w := l.front()
	sess, req, ttl, err, owner := w.sess, w.req, w.ttl, w.err, w.owner
	e.detachWaiter(w)
	e.freeWaiter(w)
	e.grant(now, l, sess, req, ttl, owner)
	if err != nil { // a Condition wait that timed out has its mutex again
		e.events[len(e.events)-1].Err = err
	}
}

func (e *Engine) nextToken() uint64 {
	if e.counter == counterMask {
		if e.epoch >= MaxEpoch {
			// 2^64 grants: unreachable in practice, and no token could stay monotonic.
			panic("engine: fencing tokens exhausted")
		}
		e.epoch++
		e.counter = 0
		e.emit(EpochBumped, 0, 0, e.epoch, nil, nil)
	}
	e.counter++
	return e.epoch<<CounterBits | e.counter
}

// --- waiting --------------------------------------------------------------------

func (e *Engine) enqueue(now int64, l *lockState, sess *session, req uint64, wait, ttl time.Duration) *waiter {
	var w *waiter
	if n := len(e.freeWaiters); n > 0 {
		w = e.freeWaiters[n-1]
		e.freeWaiters[n-1] = nil
		e.freeWaiters = e.freeWaiters[:n-1]
	} else {
		w = &waiter{}
		w.tm.w = w
		w.tm.idx = -1
	}
	w.sess, w.req, w.ttl, w.enq, w.lock = sess, req, ttl, now, l
	e.push(l, w)
	sess.linkWait(w)
	e.waiting[waitKey{sess.id, req}] = w
	if wait > 0 {
		e.arm(&w.tm, addSat(now, wait))
	}
	return w
}

// detachWaiter takes w out of its ring, session list, request map and timer heap.
// The caller frees w and, if it became empty, the session.
func (e *Engine) detachWaiter(w *waiter) {
	l, s := w.lock, w.sess
	l.ring[w.pos&uint64(len(l.ring)-1)] = nil
	l.nwait--
	mask := uint64(len(l.ring) - 1)
	for l.head < l.tail && l.ring[l.head&mask] == nil {
		l.head++
	}
	for l.tail > l.head && l.ring[(l.tail-1)&mask] == nil {
		l.tail--
	}
	if l.nwait == 0 && len(l.ring) > maxKeptRing { // a drained burst: give the big ring back
		l.ring, l.head, l.tail = nil, 0, 0
	}
	s.n--
	if w.sprev != nil {
		w.sprev.snext = w.snext
	} else {
		s.waitHead = w.snext
	}
	if w.snext != nil {
		w.snext.sprev = w.sprev
	} else {
		s.waitTail = w.sprev
	}
	delete(e.waiting, waitKey{s.id, w.req})
	e.timers.remove(&w.tm)
}

func (e *Engine) freeWaiter(w *waiter) {
	w.sess, w.lock, w.sprev, w.snext = nil, nil, nil, nil
	w.owner, w.n, w.shared, w.lockKind, w.count, w.err, w.visit = 0, 0, false, 0, 0, nil, 0
	if len(e.freeWaiters) < maxFreeList {
		e.freeWaiters = append(e.freeWaiters, w)
	}
}

func (l *lockState) front() *waiter { return l.ring[l.head&uint64(len(l.ring)-1)] }

// push appends w to l's ring. Withdrawn waiters leave nil slots; when the ring is full
// it compacts if at most half the slots are live (or it reached its limit), else doubles.
func (e *Engine) push(l *lockState, w *waiter) {
	if l.ring == nil {
		l.ring = make([]*waiter, e.ringCap)
	}
	if int(l.tail-l.head) == len(l.ring) {
		if l.nwait <= len(l.ring)/2 || len(l.ring) >= e.ringLimit {
			l.compact()
		} else {
			l.grow()
		}
	}
	w.pos = l.tail
	l.ring[l.tail&uint64(len(l.ring)-1)] = w
	l.tail++
	l.nwait++
}

// compact slides the live waiters of the ring together, keeping their order.
func (l *lockState) compact() {
	mask := uint64(len(l.ring) - 1)
	j := l.head
	for p := l.head; p < l.tail; p++ {
		if w := l.ring[p&mask]; w != nil {
			l.ring[p&mask] = nil
			l.ring[j&mask] = w
			w.pos = j
			j++
		}
	}
	l.tail = j
}

// grow doubles the ring; absolute positions stay valid because capacities are powers of two.
func (l *lockState) grow() {
	old, oldMask := l.ring, uint64(len(l.ring)-1)
	l.ring = make([]*waiter, 2*len(old))
	mask := uint64(len(l.ring) - 1)
	for p := l.head; p < l.tail; p++ {
		l.ring[p&mask] = old[p&oldMask]
	}
}

// --- events ---------------------------------------------------------------------

// copyName copies name into the event arena; nil for an empty name, so that events compare simply.
func (e *Engine) copyName(name []byte) []byte {
	if len(name) == 0 {
		return nil
	}
	start := len(e.arena)
	e.arena = append(e.arena, name...)
	return e.arena[start:len(e.arena):len(e.arena)]
}

func (e *Engine) emit(k Kind, s SessionID, req, tok uint64, name []byte, err error) {
	var n []byte // nil for an empty name, so that events compare simply
	if len(name) > 0 {
		start := len(e.arena)
		e.arena = append(e.arena, name...)
		n = e.arena[start:len(e.arena):len(e.arena)]
	}
	// Store field by field into the slot: appending a composite literal copies the whole
	// struct through a write-barrier-aware memmove, which was a fifth of an uncontended cycle.
	if len(e.events) == cap(e.events) {
		e.events = append(e.events, Event{})
	} else {
		e.events = e.events[:len(e.events)+1]
	}
	ev := &e.events[len(e.events)-1]
	ev.Kind, ev.Session, ev.Req, ev.Token, ev.Name, ev.Err = k, s, req, tok, n, err
}

// checkHolds verifies the holder or holds of a live lock against its kind.
func (l *lockState) checkHolds() error {
	if l.kind == PrimMutex {
		if l.holder == nil || l.holdHead != nil {
			return fmt.Errorf("live mutex %q without holder, or with holds", l.name)
		}
		return nil
	}
	if l.holder != nil || (l.nholds == 0 && l.nwait == 0 && l.nopen == 0) {
		return fmt.Errorf("live %v %q with a mutex holder, or with nothing held or awaited", l.kind, l.name)
	}
	n, held, excl := 0, int64(0), false
	for hd := l.holdHead; hd != nil; hd = hd.lnext {
		n++
		held += hd.n
		excl = excl || !hd.shared
		if hd.l != l || hd.count < 1 || hd.n < 1 {
			return fmt.Errorf("%v %q: hold %#x inconsistent", l.kind, l.name, hd.token)
		}
	}
	switch {
	case n != l.nholds:
		return fmt.Errorf("%v %q: %d holds, counted %d", l.kind, l.name, n, l.nholds)
	case l.kind.isSem() && held != l.held:
		return fmt.Errorf("%v %q: %d permits held, counted %d", l.kind, l.name, held, l.held)
	case l.kind == PrimRWMutex && (excl != l.excl || (excl && n != 1)):
		return fmt.Errorf("rwmutex %q: exclusive flag %v, holds %d", l.name, l.excl, n)
	case l.kind == PrimRLock && n > 1:
		return fmt.Errorf("rlock %q: %d holds", l.name, n)
	case l.kind == PrimEvent && l.flag && l.nwait > 0:
		return fmt.Errorf("event %q is set but has waiters", l.name)
	case l.kind == PrimBarrier && (l.nwait >= int(l.param) || (l.flag && l.nwait > 0)):
		return fmt.Errorf("barrier %q: %d waiters of %d parties, broken %v", l.name, l.nwait, l.param, l.flag)
	case l.kind.holds() && l.nwait > 0 && l.fits(l.front().n, l.front().shared):
		return fmt.Errorf("%v %q: its first waiter fits but waits", l.kind, l.name)
	}
	return nil
}

// check verifies the internal invariants; tests call it after every step.
func (e *Engine) check() error {
	nw, nl := 0, 0
	for l := e.liveHead; l != nil; l = l.lnext {
		nl++
		if !l.live {
			return fmt.Errorf("lock %q in the live list is not live", l.name)
		}
		if err := l.checkHolds(); err != nil {
			return err
		}
		if e.find(l.hash, l.name) != l {
			return fmt.Errorf("live lock %q not in table", l.name)
		}
		live := 0
		for p := l.head; p < l.tail; p++ {
			if w := l.ring[p&uint64(len(l.ring)-1)]; w != nil {
				live++
				if w.pos != p || w.lock != l || e.waiting[waitKey{w.sess.id, w.req}] != w {
					return fmt.Errorf("lock %q: waiter at %d inconsistent", l.name, p)
				}
			}
		}
		if live != l.nwait || (l.nwait > 0 && l.front() == nil) {
			return fmt.Errorf("lock %q: %d live waiters, counted %d", l.name, live, l.nwait)
		}
		nw += live
	}
	if l := e.idleLock; l != nil && (l.live || l.holder != nil || l.nwait != 0 || l.holdHead != nil || e.find(l.hash, l.name) != l) {
		return fmt.Errorf("idle lock %q inconsistent", l.name)
	}
	if nl != e.nlocks || nw != len(e.waiting) {
		return fmt.Errorf("counts: locks %d/%d waiters %d/%d", nl, e.nlocks, nw, len(e.waiting))
	}
	for id, s := range e.sessions {
		if s.id != id || (s.heldHead == nil && s.waitHead == nil && s.holdHead == nil && s.openHead == nil) != (s == e.idleSess) {
			return fmt.Errorf("session %d empty or misfiled", id)
		}
		n := 0
		for l := s.heldHead; l != nil; l = l.snext {
			n++
		}
		for w := s.waitHead; w != nil; w = w.snext {
			n++
		}
		for o := s.openHead; o != nil; o = o.snext {
			n++
		}
		for hd := s.holdHead; hd != nil; hd = hd.snext {
			if hd.sess != s {
				return fmt.Errorf("session %d lists a hold of session %d", id, hd.sess.id)
			}
			n++
		}
		if n != s.n {
			return fmt.Errorf("session %d counts %d holds and waits, has %d", id, s.n, n)
		}
	}
	return e.timers.check()
}
