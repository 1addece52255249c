// Package engine holds the lock rules of wwly as a pure, deterministic state
// machine: no sockets, no goroutines, no clock of its own. The transport feeds
// it requests with the current time and drains the events it returns, in the
// style of etcd-io/raft's Ready loop.
//
// An Engine is not safe for concurrent use: exactly one goroutine owns it.
//
// # Rules
//
// A live name has one kind (Prim): the mutex of Acquire/Release, or an RLock, Semaphore,
// BoundedSemaphore or RWMutex of AcquireKind/ReleaseKind (prim.go states their rules).
// Using a live name as another kind fails with ErrWrongKind. The rest of this section is
// about the mutex; the other kinds share its FIFO order, deadlines and lifetime.
//
// A mutex is an exclusive, non-reentrant lock (like Python's threading.Lock):
// a session that acquires a name it already holds queues behind itself and is
// granted only after it releases (or its lease runs out). Waiters are served
// strictly FIFO and exactly one waiter is granted per release. A released name
// with nobody waiting is forgotten at once: memory is bounded by the live locks
// and waiters (and their peak, for the reuse lists and the Go maps, which do not
// shrink), never by the names ever used. The engine allocates nothing in steady state.
//
// Deadlines (wait timeouts and lease expiries) take effect only in Tick: a
// request that arrives after a deadline but before the Tick that fires it is
// served against the state as it still stands. The transport arms one timer at
// NextDeadline and calls Tick when it fires.
//
// Fencing tokens are Epoch<<40 | counter with one engine-wide counter, so they
// rise strictly across names, releases and (with a persisted, bumped Epoch)
// restarts. When the counter runs out the engine moves to the next epoch and
// emits EpochBumped before the grant that uses it.
//
// # Event order
//
// Every call appends its events in one documented total order, which the
// reference Model reproduces exactly:
//
//   - Acquire: one event, Granted or Failed (EpochBumped may precede Granted).
//   - Release: Done(req), then Granted to the next waiter, if any.
//   - ReleaseAcquire: as Release then Acquire; or, when the holder barges (Handoff),
//     Done(relReq) then Granted(acqReq) to the releaser.
//   - Renew: Done(req) or Failed(req).
//   - Cancel: Failed(target, ErrCancelled) if target was waiting, then Done(req).
//   - AcquireKind: Granted or Failed, or nothing (it waits).
//   - ReleaseKind: Done(req) or Failed(req); after a Done, Granted to every waiter
//     that now fits, in queue order.
//   - Cancel, and a wait timeout in Tick, on a kind beyond the mutex: after the
//     Failed of the withdrawn wait, Granted to every waiter it was blocking (a
//     Barrier instead breaks: Failed(ErrBroken) to each other waiter). A Condition
//     wait that times out emits nothing then: it queues for its lock again, and
//     its Granted (Err = ErrTimeout) comes when it holds the lock.
//   - Signal: Done(req), then the wakes: Granted to every Event waiter, or
//     Failed(ErrBroken) to every Barrier waiter, or (notify) Granted to the
//     moved Condition waiters that find their lock free.
//   - AcquireKind of a Condition: its lock is released (Granted to the lock's
//     next waiters); a Barrier arrival that completes it: Granted to each party
//     in arrival order (Value = index), the arriving one last.
//   - CloseSession: no event to the closed session (it is gone). Its waits are
//     dropped first, silently; then the names of other kinds whose queue lost a
//     wait grant the waiters that now fit (in the order of the session's first
//     dropped wait on each); then its mutexes are released in the order it was
//     granted them, each emitting Granted to that name's next waiter; then its
//     holds of other kinds end in grant order, each granting what now fits.
//   - Tick: expired deadlines in (deadline, arming sequence) order, where the
//     arming sequence counts every timer armed: a wait with wait > 0 when it is
//     queued, a lease when it is granted and when it is renewed. A wait timeout
//     emits Failed(ErrTimeout) to the waiter; a lease expiry emits Lost to the
//     old holder, then Granted to the next waiter (granted at the Tick's now).
//
// Event fields: Err is set on Failed, and on the Granted that ends a Condition wait
// that timed out (the lock is held again all the same). Name is the lock the request was about (nil for Cancel's Done,
// for ErrNameLength and for EpochBumped); Token is set on Granted, Lost, on the
// Done of Release and Renew, and on EpochBumped (the new epoch); it is 0 otherwise.
package engine

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"time"
)

// SessionID names one client session (one connection). The transport assigns it.
type SessionID uint64

// Sentinel errors carried by Failed events. Callers compare with errors.Is.
var (
	ErrNotHeld    = errors.New("engine: lock not held")
	ErrTimeout    = errors.New("engine: wait timed out")
	ErrQueueFull  = errors.New("engine: waiter queue full")
	ErrCancelled  = errors.New("engine: acquire cancelled")
	ErrDuplicate  = errors.New("engine: request id already waiting")
	ErrNameLength = errors.New("engine: bad lock name length")
	// ErrTooManyHolds: the session already holds or waits for Config.MaxHolds locks. It bounds
	// what one connection can pin in memory (and what closing it costs the loop).
	ErrTooManyHolds = errors.New("engine: too many locks held or awaited by the session")
)

// ErrConfig is wrapped by every error of Config.Validate and New.
var ErrConfig = errors.New("engine: invalid config")

// CounterBits is the width of the per-epoch counter in a fencing token.
const CounterBits = 40

// MaxEpoch is the largest valid Config.Epoch: the epoch fills the 24 bits above the counter.
// A clock-derived epoch (e.g. Unix seconds) does not fit; persist a small counter instead.
const MaxEpoch = 1<<(64-CounterBits) - 1

const counterMask = 1<<CounterBits - 1

// DefaultMaxHolds is the per-session bound on holds plus waits when Config.MaxHolds is 0.
const DefaultMaxHolds = 1 << 16

// Config tunes an Engine. Use DefaultConfig and change what you need.
type Config struct {
	// QueueCap is the initial capacity of a name's waiter ring buffer; it grows by doubling.
	QueueCap int
	// MaxWaiters bounds the waiters of one name; an acquire beyond it fails with ErrQueueFull.
	MaxWaiters int
	// MaxName bounds the length of a lock name in bytes.
	MaxName int
	// MaxHolds bounds the locks one session holds plus the acquires it has waiting; an acquire
	// beyond it fails with ErrTooManyHolds. 0 means DefaultMaxHolds.
	MaxHolds int
	// Epoch is the high part of every fencing token (token = Epoch<<40 | counter).
	// The transport persists it and bumps it at each start so tokens rise across restarts.
	Epoch uint32
	// Handoff is the policy of ReleaseAcquire when others wait; the zero value is strict FIFO.
	Handoff Handoff
}

// DefaultConfig returns a fresh Config with the defaults.
func DefaultConfig() Config {
	return Config{QueueCap: 8, MaxWaiters: 1 << 16, MaxName: 256, MaxHolds: DefaultMaxHolds, Epoch: 1}
}

// Validate reports the first invalid setting, wrapping ErrConfig.
func (c Config) Validate() error {
	switch {
	case c.QueueCap < 1:
		return fmt.Errorf("%w: QueueCap %d must be at least 1", ErrConfig, c.QueueCap)
	case c.MaxWaiters < 1:
		return fmt.Errorf("%w: MaxWaiters %d must be at least 1", ErrConfig, c.MaxWaiters)
	case c.QueueCap > c.MaxWaiters:
		return fmt.Errorf("%w: QueueCap %d exceeds MaxWaiters %d", ErrConfig, c.QueueCap, c.MaxWaiters)
	case c.MaxWaiters > 1<<30:
		return fmt.Errorf("%w: MaxWaiters %d exceeds %d", ErrConfig, c.MaxWaiters, 1<<30)
	case c.MaxHolds < 0:
		return fmt.Errorf("%w: MaxHolds %d must be at least 0 (0 = %d)", ErrConfig, c.MaxHolds, DefaultMaxHolds)
	case c.MaxName < 1:
		return fmt.Errorf("%w: MaxName %d must be at least 1", ErrConfig, c.MaxName)
	case c.Handoff.Barge < 0 || c.Handoff.Barge > MaxBarge:
		return fmt.Errorf("%w: Handoff.Barge %d must be in 0..%d", ErrConfig, c.Handoff.Barge, MaxBarge)
	case c.Epoch > MaxEpoch:
		return fmt.Errorf("%w: Epoch %d exceeds MaxEpoch %d (tokens are Epoch<<%d | counter)",
			ErrConfig, c.Epoch, MaxEpoch, CounterBits)
	}
	return nil
}

// maxHolds is the effective MaxHolds.
func (c Config) maxHolds() int {
	if c.MaxHolds == 0 {
		return DefaultMaxHolds
	}
	return c.MaxHolds
}

// Kind says what an Event reports.
type Kind uint8

const (
	// Granted: the acquire Req of Session now holds Name with fencing Token.
	Granted Kind = iota + 1
	// Failed: request Req of Session failed with Err.
	Failed
	// Done: request Req (release, renew, cancel) of Session succeeded.
	Done
	// Lost: Session no longer holds Name under Token (its lease expired); Req is the acquire's id.
	Lost
	// EpochBumped: the token counter of the current epoch ran out, the engine moved to epoch Token;
	// the transport must persist it before sending anything else.
	EpochBumped
)

// String names the kind, for logs and test failures.
func (k Kind) String() string {
	switch k {
	case Granted:
		return "Granted"
	case Failed:
		return "Failed"
	case Done:
		return "Done"
	case Lost:
		return "Lost"
	case EpochBumped:
		return "EpochBumped"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Event is one output of the engine, addressed to a session.
// Name aliases engine memory: it stays valid and unchanged until the next ClearEvents
// (which is at least as long as "until the next call into the engine"). Copy it to keep it.
type Event struct {
	Kind    Kind
	Session SessionID
	Req     uint64
	Token   uint64
	Name    []byte
	Err     error
	// Value is a Barrier wait's arrival index (0 for the first to arrive) on its Granted.
	Value int64
	// Cycle is the wait-for cycle of a Failed(ErrDeadlock), starting with the requester.
	// It aliases engine memory like Name.
	Cycle []Hop
}

// String renders the event for logs and test failures.
func (ev Event) String() string {
	if ev.Value != 0 {
		return fmt.Sprintf("%v{s=%d req=%d tok=%#x name=%q err=%v value=%d}", ev.Kind, ev.Session, ev.Req, ev.Token, ev.Name, ev.Err, ev.Value)
	}
	return fmt.Sprintf("%v{s=%d req=%d tok=%#x name=%q err=%v}", ev.Kind, ev.Session, ev.Req, ev.Token, ev.Name, ev.Err)
}

// LockStatus describes one live lock.
type LockStatus struct {
	Name       string
	Kind       Prim
	Holder     SessionID // the first holder (in grant order)
	HolderReq  uint64
	Token      uint64
	Holders    int   // holds: 1 for a held mutex or RLock, readers of an RWMutex, grants of a semaphore
	Value      int64 // Semaphore: permits free now; Event: 1 when set; Barrier: 1 when broken
	Waiters    int
	OldestWait time.Duration // how long the longest waiter has waited; 0 with no waiters
	LeaseLeft  time.Duration // 0 when the holder has no lease; ≤ 0 also when the expiry is due but not yet ticked
}

// Stats counts what the engine holds in memory.
type Stats struct {
	Locks    int // names with a holder or waiters
	Waiters  int
	Sessions int // sessions holding or waiting for something
}

// Engine is the state machine. All times are nanoseconds on one monotonic clock chosen by the caller.
// The zero value is not usable; call New. Not safe for concurrent use.
type Engine struct {
	cfg Config

	// locks maps a hash of the name bytes to a collision chain, so that neither lookup
	// nor insert has to build a string key. The seed is per engine (hash flooding);
	// no output depends on hash values, so behaviour stays deterministic.
	seed     maphash.Seed
	hashMask uint64 // all ones; tests narrow it to force collision chains
	locks    map[uint64]*lockState
	sessions map[SessionID]*session
	waiting  map[waitKey]*waiter
	timers   timerHeap

	liveHead, liveTail *lockState // live locks in the order they became live (deterministic Locks)
	nlocks             int
	idleLock           *lockState // last freed lock, kept in the table for reuse; see freeLock
	idleSess           *session   // last emptied session, kept in the map; see maybeFreeSession

	epoch   uint64 // current token epoch
	counter uint64 // last counter issued in epoch
	seq     uint64 // arming sequence of timers: tie-break for equal deadlines

	maxHolds  int // Config.maxHolds()
	ringCap   int // initial ring capacity (QueueCap rounded up to a power of two)
	ringLimit int // ring capacity beyond which the ring compacts instead of growing

	freeLocks    []*lockState
	freeWaiters  []*waiter
	freeSessions []*session
	freeHolds    []*hold
	touched      []*lockState // CloseSession's scratch list of names whose waits it dropped

	events []Event
	arena  []byte // event names are copied here; reset by ClearEvents
	hops   []Hop  // deadlock cycles of events; reset by ClearEvents

	visitGen uint64       // deadlock walk generation (waiter.visit)
	path     []*lockState // deadlock walk scratch
}

// New returns an Engine, or an error wrapping ErrConfig when cfg is invalid.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Engine{
		cfg:       cfg,
		seed:      maphash.MakeSeed(),
		hashMask:  ^uint64(0),
		locks:     make(map[uint64]*lockState),
		sessions:  make(map[SessionID]*session),
		waiting:   make(map[waitKey]*waiter),
		epoch:     uint64(cfg.Epoch),
		maxHolds:  cfg.maxHolds(),
		ringCap:   ceilPow2(cfg.QueueCap),
		ringLimit: ceilPow2(cfg.MaxWaiters),
	}, nil
}

// Acquire asks for name on behalf of (s, req). wait is how long to queue: 0 = try-lock, <0 = forever.
// ttl > 0 gives the holder a lease that must be renewed before it runs out; it starts at grant time.
// Emits Granted now, or later Granted / Failed(ErrTimeout, ErrCancelled), or
// Failed(ErrQueueFull, ErrDuplicate, ErrNameLength, ErrTooManyHolds, ErrTimeout for a busy try-lock) now.
// The checks run in that order: name length, duplicate id, hold cap, then the lock's state.
// A session acquiring a name it holds queues behind itself (the lock is not reentrant).
// req need only be unique among s's waiting acquires: it names the wait for Cancel, and
// comes back as Req in the Granted and, for a lease, the Lost event.
// name is copied; the caller keeps ownership.
func (e *Engine) Acquire(now int64, s SessionID, req uint64, name []byte, wait, ttl time.Duration) {
	e.acquireMutex(now, s, req, name, wait, ttl, 0, false)
}

// acquireMutex is Acquire for an owner within the session (AcquireKind's Op.Owner), with
// deadlock detection when detect is set.
func (e *Engine) acquireMutex(now int64, s SessionID, req uint64, name []byte, wait, ttl time.Duration, owner uint64, detect bool) {
	if len(name) == 0 || len(name) > e.cfg.MaxName {
		e.emit(Failed, s, req, 0, nil, ErrNameLength)
		return
	}
	if _, dup := e.waiting[waitKey{s, req}]; dup {
		e.emit(Failed, s, req, 0, name, ErrDuplicate)
		return
	}
	sess := e.sessions[s] // nil for a session with nothing held or awaited
	if sess != nil && sess.n >= e.maxHolds {
		e.emit(Failed, s, req, 0, name, ErrTooManyHolds)
		return
	}
	h := hashName(e, name)
	l := e.find(h, name)
	if l == nil || !l.live { // free: unknown or idle
		e.grant(now, e.newLock(h, name, l, PrimMutex), e.revive(sess, s), req, ttl, owner)
		return
	}
	if l.kind != PrimMutex {
		e.emit(Failed, s, req, 0, name, ErrWrongKind)
		return
	}
	if wait == 0 {
		e.emit(Failed, s, req, 0, name, ErrTimeout)
		return
	}
	if l.nwait >= e.cfg.MaxWaiters {
		e.emit(Failed, s, req, 0, name, ErrQueueFull)
		return
	}
	if detect && e.deadlock(s, req, owner, l) {
		return
	}
	e.enqueue(now, l, e.revive(sess, s), req, wait, ttl).owner = owner
}

// Release frees name if s holds it under token: Done(req), and the next waiter (FIFO) is Granted.
// Otherwise Failed(req, ErrNotHeld) and nothing changes (so a repeated release is harmless).
func (e *Engine) Release(now int64, s SessionID, req uint64, name []byte, token uint64) {
	l := e.lookup(name)
	if l == nil || l.holder == nil || l.holder.id != s || l.token != token {
		e.emit(Failed, s, req, 0, name, notHeld(l))
		return
	}
	e.emit(Done, s, req, token, l.name, nil)
	sess := l.holder
	e.detachHolder(l)
	e.maybeFreeSession(sess)
	e.grantNext(now, l)
}

// notHeld is the error for a Release or Renew of a mutex that the caller does not hold.
func notHeld(l *lockState) error {
	if l != nil && l.live && l.kind != PrimMutex {
		return ErrWrongKind
	}
	return ErrNotHeld
}

// Renew extends the lease of name held by s under token to now+ttl: Done(req), or Failed(req, ErrNotHeld).
// ttl ≤ 0 removes the lease: the holder keeps the lock until it releases or its session closes.
func (e *Engine) Renew(now int64, s SessionID, req uint64, name []byte, token uint64, ttl time.Duration) {
	l := e.lookup(name)
	if l == nil || l.holder == nil || l.holder.id != s || l.token != token {
		e.emit(Failed, s, req, 0, name, notHeld(l))
		return
	}
	if ttl > 0 {
		e.arm(&l.lease, addSat(now, ttl))
	} else {
		e.timers.remove(&l.lease)
	}
	e.emit(Done, s, req, token, l.name, nil)
}

// Cancel withdraws s's waiting acquire target: Failed(target, ErrCancelled) if it was still waiting,
// then always Done(req). A target already granted is not touched (the client releases it).
func (e *Engine) Cancel(now int64, s SessionID, req uint64, target uint64) {
	if w := e.waiting[waitKey{s, target}]; w != nil {
		l, sess := w.lock, w.sess
		e.detachWaiter(w)
		e.emit(Failed, s, target, 0, l.name, ErrCancelled)
		e.freeWaiter(w)
		if l.kind != PrimMutex {
			e.left(now, l) // the wait may have blocked others
		}
		e.maybeFreeSession(sess)
	}
	e.emit(Done, s, req, 0, nil, nil)
}

// CloseSession drops every wait of s and releases every lock it holds, granting the next waiters.
// Nothing is ever granted to s afterwards (until the transport reuses the id, which it must not).
// No event is addressed to s. Cost: O(what s holds and waits for).
func (e *Engine) CloseSession(now int64, s SessionID) {
	sess := e.sessions[s]
	if sess == nil {
		return
	}
	// Waits first, so that releasing a lock s holds can never grant it back to s.
	for w := sess.waitHead; w != nil; {
		next := w.snext
		if l := w.lock; l.kind != PrimMutex && !l.mark {
			l.mark = true
			e.touched = append(e.touched, l)
		}
		e.detachWaiter(w)
		e.freeWaiter(w)
		w = next
	}
	// Then the names whose queue lost a wait that blocked others (a big semaphore request, a writer).
	for i, l := range e.touched {
		l.mark = false
		e.touched[i] = nil
		e.left(now, l)
	}
	e.touched = e.touched[:0]
	for l := sess.heldHead; l != nil; {
		next := l.snext
		e.detachHolder(l)
		e.grantNext(now, l)
		l = next
	}
	for hd := sess.holdHead; hd != nil; {
		next, l := hd.snext, hd.l
		e.dropHold(hd)
		e.settle(now, l)
		hd = next
	}
	for o := sess.openHead; o != nil; {
		next, l := o.snext, o.l
		e.dropOpen(o)
		e.settle(now, l)
		o = next
	}
	e.evictSession(sess) // the id is gone for good: do not keep it as the idle session
}

// Tick fires every deadline at or before now: wait timeouts (Failed ErrTimeout) and lease expiries
// (Lost to the holder, Granted to the next waiter), in (deadline, arming sequence) order.
func (e *Engine) Tick(now int64) {
	for len(e.timers) > 0 && e.timers[0].when <= now {
		t := e.timers.pop()
		if w := t.w; w != nil && w.lock.kind == PrimCondition {
			e.condTimeout(now, w)
			continue
		}
		if w := t.w; w != nil {
			l, sess := w.lock, w.sess
			e.detachWaiter(w)
			e.emit(Failed, sess.id, w.req, 0, l.name, ErrTimeout)
			e.freeWaiter(w)
			if l.kind != PrimMutex {
				e.left(now, l)
			}
			e.maybeFreeSession(sess)
			continue
		}
		l := t.l
		sess := l.holder
		e.emit(Lost, sess.id, l.holderReq, l.token, l.name, nil)
		e.detachHolder(l)
		e.maybeFreeSession(sess)
		e.grantNext(now, l)
	}
}

// NextDeadline reports the earliest pending deadline, if any, so the transport can arm one timer.
func (e *Engine) NextDeadline() (int64, bool) {
	if len(e.timers) == 0 {
		return 0, false
	}
	return e.timers[0].when, true
}

// Events returns the events emitted since the last ClearEvents, in order.
// The slice and the Name bytes belong to the engine and stay valid until ClearEvents.
func (e *Engine) Events() []Event { return e.events }

// ClearEvents forgets the emitted events; their Name slices become invalid.
func (e *Engine) ClearEvents() {
	clear(e.events) // drop references to old arenas
	e.events = e.events[:0]
	// A burst may have grown the buffers far beyond the steady state; give that memory back.
	if cap(e.events) > maxKeptEvents {
		e.events = nil
	}
	if cap(e.arena) > maxKeptArena {
		e.arena = nil
	}
	e.arena = e.arena[:0]
	clear(e.hops)
	e.hops = e.hops[:0]
}

// Status reports the lock name, or false when nobody holds or waits for it.
func (e *Engine) Status(now int64, name []byte) (LockStatus, bool) {
	l := e.lookup(name)
	if l == nil || !l.live {
		return LockStatus{}, false
	}
	return l.status(now), true
}

// Locks calls fn for every live lock, in the order the locks became live, until fn returns false.
// fn must not call into the engine.
func (e *Engine) Locks(now int64, fn func(LockStatus) bool) {
	for l := e.liveHead; l != nil; l = l.lnext {
		if !fn(l.status(now)) {
			return
		}
	}
}

// SessionLoad reports how many locks session s holds plus how many acquires it has waiting in
// this engine (what Config.MaxHolds bounds); 0 for a session with nothing here.
func (e *Engine) SessionLoad(s SessionID) int {
	if sess := e.sessions[s]; sess != nil {
		return sess.n
	}
	return 0
}

// Stats counts live state. All fields are zero when nobody holds or waits for anything.
func (e *Engine) Stats() Stats {
	n := len(e.sessions)
	if e.idleSess != nil {
		n--
	}
	return Stats{Locks: e.nlocks, Waiters: len(e.waiting), Sessions: n}
}

// Epoch reports the current token epoch (Config.Epoch unless an EpochBumped moved it).
func (e *Engine) Epoch() uint32 { return uint32(e.epoch) }

// addSat returns now+d, saturating instead of wrapping around.
func addSat(now int64, d time.Duration) int64 {
	if d > 0 && now > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	if d < 0 && now < math.MinInt64-int64(d) {
		return math.MinInt64
	}
	return now + int64(d)
}

func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
