package engine

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Prim is the kind of a name. A live name has exactly one kind (and, for a semaphore, one
// initial value); an operation of another kind on it fails with ErrWrongKind. A name that is
// not live (nothing held or awaited) has no kind: its next use chooses one.
type Prim uint8

const (
	PrimMutex            Prim = iota // exclusive, not reentrant (threading.Lock); Acquire/Release
	PrimRLock                        // reentrant by (session, Op.Owner) (threading.RLock)
	PrimSemaphore                    // Op.Value permits (threading.Semaphore)
	PrimBoundedSemaphore             // a Semaphore whose releases may not exceed what is held
	PrimRWMutex                      // shared or exclusive (flock -s / -x)
	PrimEvent                        // a flag to wait for (threading.Event)
	PrimBarrier                      // Op.Value parties meet (threading.Barrier)
	PrimCondition                    // waits bound to the Mutex or RLock named Op.Lock (threading.Condition)
	numPrims
)

// String names the kind, for logs and test failures.
func (p Prim) String() string {
	switch p {
	case PrimMutex:
		return "mutex"
	case PrimRLock:
		return "rlock"
	case PrimSemaphore:
		return "semaphore"
	case PrimBoundedSemaphore:
		return "bounded-semaphore"
	case PrimRWMutex:
		return "rwmutex"
	case PrimEvent:
		return "event"
	case PrimBarrier:
		return "barrier"
	case PrimCondition:
		return "condition"
	}
	return fmt.Sprintf("Prim(%d)", uint8(p))
}

func (p Prim) isSem() bool { return p == PrimSemaphore || p == PrimBoundedSemaphore }

// hasParam: the kind's Op.Value is fixed while the name is live and part of its identity.
func (p Prim) hasParam() bool { return p.isSem() || p == PrimBarrier }

// holds: the kind's grants are hold records (the others only wake their waiters).
func (p Prim) holds() bool { return p > PrimMutex && p < PrimEvent }

// invalid reports an Op that no state could serve: an unknown kind, a semaphore request of
// 0 permits, a barrier of 0 parties, a condition without a lock name of 1..maxName bytes.
func (op *Op) invalid(maxName int) bool {
	return op.Prim >= numPrims || (op.Prim.isSem() && op.N == 0) || (op.Prim == PrimBarrier && op.Value == 0) ||
		(op.Prim == PrimCondition && (len(op.Lock) == 0 || len(op.Lock) > maxName))
}

// invalidOpen is invalid for Open, which takes no permits, and refuses the mutex, whose state
// is only its holder.
func (op *Op) invalidOpen(maxName int) bool {
	return op.Prim == PrimMutex || (!op.Prim.isSem() && op.invalid(maxName))
}

// conflicts reports whether the live l cannot serve op: another kind or another parameter
// (a semaphore's value, a barrier's parties, a condition's lock).
func (l *lockState) conflicts(op *Op) bool {
	return l.kind != op.Prim || (op.Prim.hasParam() && l.param != op.Value) ||
		(op.Prim == PrimCondition && !bytes.Equal(l.bound, op.Lock))
}

// More sentinel errors of Failed events, for the kinds beyond the mutex.
var (
	// ErrWrongKind: the name is live as another kind, or as a semaphore with another initial value.
	ErrWrongKind = errors.New("engine: name in use as another kind or with other parameters")
	// ErrNotOwner: an RLock released by someone other than its owner, or when not held
	// (Python's RuntimeError "cannot release un-acquired lock").
	ErrNotOwner = errors.New("engine: rlock not owned by the caller")
	// ErrOverRelease: a BoundedSemaphore released past its bound (Python's ValueError).
	ErrOverRelease = errors.New("engine: semaphore released too many times")
	// ErrInvalid: an argument out of range (a semaphore request of 0 permits, an unknown kind).
	ErrInvalid = errors.New("engine: invalid argument")
)

// Op is one operation on a name of any kind, for AcquireKind and ReleaseKind. Only the fields
// of its Prim are read.
type Op struct {
	Prim  Prim
	Name  []byte // copied; the caller keeps ownership
	Owner uint64 // RLock: the owner within the session (e.g. a thread id)
	N     uint32 // Semaphore: permits to acquire or release, ≥ 1
	Value uint32 // Semaphore: the initial value; fixed while the name is live
	// Shared asks an RWMutex for a shared (read) hold instead of an exclusive one.
	Shared bool
	Token  uint64        // RWMutex and Mutex release, Condition: the token of the grant (of Lock)
	Lock   []byte        // Condition: the name of its Mutex or RLock; fixed while the name is live
	Wait   time.Duration // acquire: 0 = try once, < 0 = forever, > 0 = up to that long
	// Detect asks an acquire of a Mutex, RLock or RWMutex that would wait to fail at once with
	// ErrDeadlock instead when its wait would close a cycle in the wait-for graph.
	Detect bool
}

// hold is one grant on a name of a kind other than the mutex (whose single holder lives in
// lockState itself, to keep the mutex path as it was). It is linked into its lock's holds and
// its session's holds, both in grant order.
type hold struct {
	l      *lockState
	sess   *session
	req    uint64
	token  uint64
	owner  uint64 // RLock owner
	n      int64  // semaphore permits; 1 otherwise
	count  int    // RLock recursion depth
	shared bool   // RWMutex shared hold
	lprev  *hold
	lnext  *hold
	sprev  *hold
	snext  *hold
}

// admit runs the checks a new hold, wait or Open passes, in the order the model checks them:
// the name's length, the request id not already waiting (acquires only: dup), the session's
// hold cap, the op's arguments (invalid), then the name's kind. It emits Failed for the first
// that fails and returns nil; otherwise the name's state and the session (nil if it has none
// yet).
func (e *Engine) admit(s SessionID, req uint64, op *Op, dup, invalid bool) (*lockState, *session) {
	name := op.Name
	if len(name) == 0 || len(name) > e.cfg.MaxName {
		e.emit(Failed, s, req, 0, nil, ErrNameLength)
		return nil, nil
	}
	if _, waiting := e.waiting[waitKey{s, req}]; dup && waiting {
		e.emit(Failed, s, req, 0, name, ErrDuplicate)
		return nil, nil
	}
	sess := e.sessions[s]
	if sess != nil && sess.n >= e.maxHolds {
		e.emit(Failed, s, req, 0, name, ErrTooManyHolds)
		return nil, nil
	}
	if invalid {
		e.emit(Failed, s, req, 0, name, ErrInvalid)
		return nil, nil
	}
	l := e.state(name, op)
	if l == nil {
		e.emit(Failed, s, req, 0, name, ErrWrongKind)
		return nil, nil
	}
	return l, sess
}

// AcquireKind acquires op.Name as op.Prim for (s, req); PrimMutex is Acquire without a lease.
// Emits Granted (with a fresh token, except an RLock re-entry, which reports the outermost
// grant's token) now or later, or Failed with ErrNameLength, ErrDuplicate, ErrTooManyHolds,
// ErrWrongKind, ErrInvalid, ErrQueueFull, or ErrTimeout (now for a busy try, later when the
// wait runs out). Waiters of a name are served strictly FIFO: a request that cannot be granted
// blocks the ones behind it (no starvation of a big semaphore request or of a writer); when it
// is granted or leaves, every waiter that now fits is granted in queue order.
func (e *Engine) AcquireKind(now int64, s SessionID, req uint64, op Op) {
	if op.Prim == PrimMutex {
		e.acquireMutex(now, s, req, op.Name, op.Wait, 0, op.Owner, op.Detect)
		return
	}
	name := op.Name
	l, sess := e.admit(s, req, &op, true, op.invalid(e.cfg.MaxName))
	if l == nil {
		return
	}
	switch op.Prim {
	case PrimCondition:
		e.condWait(now, l, s, req, &op)
		return
	case PrimEvent:
		e.waitEvent(now, l, sess, s, req, op.Wait)
		return
	case PrimBarrier:
		e.arrive(now, l, sess, s, req, op.Wait)
		return
	case PrimRLock:
		if hd := l.holdHead; hd != nil && hd.sess.id == s && hd.owner == op.Owner {
			hd.count++ // re-entry: granted at once, whoever waits
			e.emit(Granted, s, req, hd.token, l.name, nil)
			return
		}
	}
	n := int64(1)
	if op.Prim.isSem() {
		n = int64(op.N)
	}
	switch {
	case l.nwait == 0 && l.fits(n, op.Shared):
		e.grantHold(l, e.revive(sess, s), req, op.Owner, n, op.Shared)
	case op.Wait == 0:
		e.emit(Failed, s, req, 0, name, ErrTimeout)
		e.settle(now, l) // frees a name created just for this try
	case l.nwait >= e.cfg.MaxWaiters:
		e.emit(Failed, s, req, 0, name, ErrQueueFull)
	case op.Detect && op.Prim != PrimSemaphore && op.Prim != PrimBoundedSemaphore && e.deadlock(s, req, op.Owner, l):
	default:
		w := e.enqueue(now, l, e.revive(sess, s), req, op.Wait, 0)
		w.owner, w.n, w.shared = op.Owner, n, op.Shared
	}
}

// state returns the live state of name for op, making it live when it is not, or nil when
// the name is live as another kind or with another parameter.
func (e *Engine) state(name []byte, op *Op) *lockState {
	h := hashName(e, name)
	l := e.find(h, name)
	if l == nil || !l.live {
		l = e.newLock(h, name, l, op.Prim)
		l.param, l.avail = op.Value, int64(op.Value)
		if op.Prim == PrimCondition {
			l.bound = append(l.bound[:0], op.Lock...)
		}
		return l
	}
	if l.conflicts(op) {
		return nil
	}
	return l
}

// fits reports whether a request of n permits (or a shared/exclusive hold) could be granted now,
// queue order aside.
func (l *lockState) fits(n int64, shared bool) bool {
	switch l.kind {
	case PrimSemaphore, PrimBoundedSemaphore:
		return l.avail >= n
	case PrimRWMutex:
		return l.nholds == 0 || (shared && !l.excl)
	}
	return l.nholds == 0
}

// ReleaseKind releases op.Name as op.Prim for (s, req); PrimMutex is Release(op.Token).
//
//   - RLock: the hold of (s, op.Owner) loses one level: Done(req, token); at depth 0 the next
//     waiter is granted. Anyone else (or a free name): Failed(ErrNotOwner).
//   - RWMutex: the hold of s under op.Token ends: Done(req, token), then grants. Else ErrNotHeld.
//   - Semaphore: op.N permits come back, as Python lets any thread release. They are taken
//     first from s's own holds (newest first), then from other sessions' holds (oldest first),
//     so that permits given back by a release are never given back again when their holder's
//     session dies. Permits beyond all that is held raise the count past its initial value for
//     a Semaphore (as in Python; the surplus lives as long as the name does), and make a
//     BoundedSemaphore fail with ErrOverRelease, changing nothing. Done(req), then grants.
func (e *Engine) ReleaseKind(now int64, s SessionID, req uint64, op Op) {
	if op.Prim == PrimMutex {
		e.Release(now, s, req, op.Name, op.Token)
		return
	}
	name := op.Name
	if len(name) == 0 || len(name) > e.cfg.MaxName {
		e.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	if op.invalid(e.cfg.MaxName) || !op.Prim.holds() {
		e.emit(Failed, s, req, 0, name, ErrInvalid)
		return
	}
	l := e.lookup(name)
	if l != nil && l.live && l.conflicts(&op) {
		e.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	if l != nil && !l.live {
		l = nil
	}
	switch op.Prim {
	case PrimRLock:
		hd := l.firstHold()
		if hd == nil || hd.sess.id != s || hd.owner != op.Owner {
			e.emit(Failed, s, req, 0, name, ErrNotOwner)
			return
		}
		e.emit(Done, s, req, hd.token, l.name, nil)
		if hd.count--; hd.count == 0 {
			sess := hd.sess
			e.dropHold(hd)
			e.maybeFreeSession(sess)
			e.settle(now, l)
		}
	case PrimRWMutex:
		var hd *hold
		for x := l.firstHold(); x != nil; x = x.lnext {
			if x.sess.id == s && x.token == op.Token {
				hd = x
				break
			}
		}
		if hd == nil {
			e.emit(Failed, s, req, 0, name, ErrNotHeld)
			return
		}
		e.emit(Done, s, req, hd.token, l.name, nil)
		sess := hd.sess
		e.dropHold(hd)
		e.maybeFreeSession(sess)
		e.settle(now, l)
	default:
		e.releasePermits(now, s, req, op, l)
	}
}

func (l *lockState) firstHold() *hold {
	if l == nil {
		return nil
	}
	return l.holdHead
}

// releasePermits is the semaphore case of ReleaseKind; l is nil when the name is not live.
func (e *Engine) releasePermits(now int64, s SessionID, req uint64, op Op, l *lockState) {
	n := int64(op.N)
	var held int64
	if l != nil {
		held = l.held
	}
	if n > held && op.Prim == PrimBoundedSemaphore {
		e.emit(Failed, s, req, 0, op.Name, ErrOverRelease)
		return
	}
	if l == nil { // a surplus on a name nobody uses: nothing to keep it in
		e.emit(Done, s, req, 0, op.Name, nil)
		return
	}
	left := n
	if sess := e.sessions[s]; sess != nil {
		for hd := sess.holdTail; hd != nil && left > 0; {
			prev := hd.sprev
			if hd.l == l {
				left -= e.takePermits(hd, left)
			}
			hd = prev
		}
	}
	for hd := l.holdHead; hd != nil && left > 0; {
		next := hd.lnext
		left -= e.takePermits(hd, left)
		hd = next
	}
	l.avail += left // the surplus of a plain Semaphore
	e.emit(Done, s, req, 0, l.name, nil)
	e.settle(now, l)
}

// takePermits moves up to max permits of hd back to its semaphore, ending hd when it is empty.
func (e *Engine) takePermits(hd *hold, max int64) int64 {
	k := min(hd.n, max)
	if k == hd.n {
		sess := hd.sess
		e.dropHold(hd)
		e.maybeFreeSession(sess)
		return k
	}
	hd.n -= k
	hd.l.held -= k
	hd.l.avail += k
	return k
}

// grantHold makes a new hold of n on l for (sess, req) under a fresh token.
func (e *Engine) grantHold(l *lockState, sess *session, req, owner uint64, n int64, shared bool) *hold {
	tok := e.nextToken()
	var hd *hold
	if k := len(e.freeHolds); k > 0 {
		hd = e.freeHolds[k-1]
		e.freeHolds[k-1] = nil
		e.freeHolds = e.freeHolds[:k-1]
	} else {
		hd = &hold{}
	}
	*hd = hold{l: l, sess: sess, req: req, token: tok, owner: owner, n: n, count: 1, shared: shared}
	l.linkHold(hd)
	sess.linkHold(hd)
	if l.kind.isSem() {
		l.avail -= n
		l.held += n
	}
	if l.kind == PrimRWMutex && !shared {
		l.excl = true
	}
	e.emit(Granted, sess.id, req, tok, l.name, nil)
	return hd
}

// dropHold ends hd, giving its permits back; the caller settles the lock and frees the session.
func (e *Engine) dropHold(hd *hold) {
	l, s := hd.l, hd.sess
	if hd.lprev != nil {
		hd.lprev.lnext = hd.lnext
	} else {
		l.holdHead = hd.lnext
	}
	if hd.lnext != nil {
		hd.lnext.lprev = hd.lprev
	} else {
		l.holdTail = hd.lprev
	}
	if hd.sprev != nil {
		hd.sprev.snext = hd.snext
	} else {
		s.holdHead = hd.snext
	}
	if hd.snext != nil {
		hd.snext.sprev = hd.sprev
	} else {
		s.holdTail = hd.sprev
	}
	s.n--
	l.nholds--
	if l.kind.isSem() {
		l.avail += hd.n
		l.held -= hd.n
	}
	if !hd.shared {
		l.excl = false
	}
	*hd = hold{}
	if len(e.freeHolds) < maxFreeList {
		e.freeHolds = append(e.freeHolds, hd)
	}
}

// settle grants, in queue order, every waiter of the non-mutex lock l that now fits (all of
// them for a set Event), and forgets l when nothing is held, awaited or open.
func (e *Engine) settle(now int64, l *lockState) {
	switch l.kind {
	case PrimEvent:
		for l.flag && l.nwait > 0 {
			w := l.front()
			sess, req := w.sess, w.req
			e.detachWaiter(w)
			e.freeWaiter(w)
			e.emit(Granted, sess.id, req, 0, l.name, nil)
			e.maybeFreeSession(sess)
		}
	case PrimBarrier, PrimCondition:
	default:
		e.settleHolds(l)
	}
	if l.nholds == 0 && l.nwait == 0 && l.nopen == 0 {
		e.freeLock(l)
	}
}

// settleHolds grants, in queue order, every waiter of a kind with holds that now fits.
func (e *Engine) settleHolds(l *lockState) {
	for l.nwait > 0 {
		w := l.front()
		if !l.fits(w.n, w.shared) {
			break
		}
		sess, req, owner, n, shared, count, err := w.sess, w.req, w.owner, w.n, w.shared, w.count, w.err
		e.detachWaiter(w)
		e.freeWaiter(w)
		hd := e.grantHold(l, sess, req, owner, n, shared)
		if count > 0 { // a Condition wait re-acquiring its RLock at its old depth
			hd.count = count
			e.events[len(e.events)-1].Err = err
		}
	}
}

// left settles l after one of its waits ended without a grant (timeout, cancel, close):
// a Barrier breaks, other kinds grant what that wait was blocking.
func (e *Engine) left(now int64, l *lockState) {
	if l.kind == PrimBarrier {
		e.breakBarrier(l)
	}
	e.settle(now, l)
}
