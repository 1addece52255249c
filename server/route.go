package server

// Routing: which engine shard a request goes to, the cross-loop inbox that carries requests
// and engine events between loops, and running the engine.

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// shard is one engine and the timer that fires its deadlines. Which loops may call its engine,
// and under what guard, is its access, chosen when the server is built.
type shard struct {
	idx    int
	eng    *engine.Engine
	owner  *loop // runs Tick when timer fires
	access shardAccess
	timer  *time.Timer
	armed  int64      // deadline timer is armed for (engine clock); 0 = none
	waits  grantWaits // arrival times of queued acquires, for Stats (owned like eng)
}

// shardAccess is the seam between the two ways loops share engine shards. A shard's eng and
// armed are touched only by a loop for which local is true, between lock and unlock.
type shardAccess interface {
	local(sh *shard, from *loop) bool // may from call sh's engine now? Else it posts to sh.owner.
	lock()
	unlock()
}

// ownerAccess: only the owning loop touches the shard, so no lock (modeSharded, the default).
type ownerAccess struct{}

func (ownerAccess) local(sh *shard, from *loop) bool { return sh.owner == from }
func (ownerAccess) lock()                            {}
func (ownerAccess) unlock()                          {}

// mutexAccess: every loop calls the one shard inline, under a mutex (modeMutex, the simplest
// correct design, kept as the baseline of BenchmarkEngineMode).
type mutexAccess struct{ mu sync.Mutex }

func (*mutexAccess) local(*shard, *loop) bool { return true }
func (a *mutexAccess) lock()                  { a.mu.Lock() }
func (a *mutexAccess) unlock()                { a.mu.Unlock() }

var (
	_ shardAccess = ownerAccess{}
	_ shardAccess = (*mutexAccess)(nil)
)

// msgKind says what a cross-loop message carries.
type msgKind uint8

const (
	mRequest      msgKind = iota + 1 // run req on shard (on its owner loop)
	mEvents                          // deliver evs (one shard turn's events) to sessions of the receiving loop
	mStatus                          // a shard's part of a STATUS reply, for a session of the receiving loop
	mSessions                        // list the receiving loop's sessions for a SESSIONS request of req.sid
	mSessionsPart                    // a loop's part of a SESSIONS reply, for a session of the receiving loop
	mSessionLoad                     // a shard's lock counts for a SESSIONS reply, for a session of the receiving loop
	mTick                            // shard's timer fired
	mSweep                           // heartbeat sweep of the receiving loop
	mShutdown                        // tell every client of the receiving loop and close it
)

// message crosses between goroutines through a loop's inbox. The sender builds it and never
// touches it again; every byte slice in it is owned by the message.
type message struct {
	next   *message
	kind   msgKind
	shard  *shard
	req    request
	evs    []engine.Event  // names and cycles owned by the message
	one    [1]engine.Event // evs's first backing array: one event costs no extra allocation
	locks  []wire.LockInfo
	who    []wire.SessionInfo // mSessionsPart
	counts []uint32           // mSessionLoad
}

// reqKind extends wire.Type with the engine calls that are not client frames.
type reqKind uint8

const (
	rAcquire reqKind = iota + 1
	rRelease
	rRenew
	rCancel
	rStatus
	rCloseSession
	rOp             // an OP frame: op says which kind and action
	rSessionLoad    // count the locks of the sessions in ids (SESSIONS)
	rReleaseAcquire // a RELEASE and the ACQUIRE of the same name right after it in one read
)

// request is one engine call, in a form that can cross loops.
type request struct {
	kind   reqKind
	sid    engine.SessionID
	req    uint64
	name   []byte
	names  [][]byte
	wait   int64
	ttl    int64
	token  uint64
	target uint64
	acq    uint64   // rReleaseAcquire: the ACQUIRE's request id (req is the RELEASE's)
	ids    []uint64 // SESSIONS only; owned by the message
	op     opArgs   // rOp only
}

// post hands m to the loop. Safe from any goroutine; lock-free. At most one drain is queued
// at a time, so a burst of messages costs the target loop one wake-up.
func (l *loop) post(m *message) {
	for {
		old := l.inHead.Load()
		m.next = old
		if l.inHead.CompareAndSwap(old, m) {
			break
		}
	}
	if l.scheduled.CompareAndSwap(false, true) {
		// Before bind, el is nil and scheduled stays set: bind queues the first drain.
		if b := l.el.Load(); b != nil {
			_ = b.el.Execute(context.Background(), l.drainFn)
		}
	}
}

// drain runs on the loop: takes every posted message and handles them in posting order.
func (l *loop) drain(context.Context) error {
	// Clear the flag before taking the stack: a message pushed after the swap then queues a
	// new drain, so none is left behind.
	l.scheduled.Store(false)
	head := l.inHead.Swap(nil)
	if head == nil {
		return nil
	}
	l.batch = l.batch[:0]
	for m := head; m != nil; m = m.next {
		l.batch = append(l.batch, m)
	}
	l.enter()
	now := l.srv.now()
	for i := len(l.batch) - 1; i >= 0; i-- {
		m := l.batch[i]
		l.batch[i] = nil
		l.handleMessage(m, now)
	}
	l.leave()
	return nil
}

func (l *loop) handleMessage(m *message, now int64) {
	switch m.kind {
	case mRequest:
		l.exec(m.shard, &m.req, now)
	case mEvents:
		for i := range m.evs {
			if s := l.sessions[m.evs[i].Session]; s != nil {
				l.deliver(s, &m.evs[i])
			}
		}
	case mStatus:
		if s := l.sessions[m.req.sid]; s != nil {
			l.statusPart(s, m.req.req, m.locks)
		}
	case mSessions:
		part := l.sessionsHere(m.req.ids)
		l.srv.loopOf(m.req.sid).post(&message{kind: mSessionsPart, req: request{sid: m.req.sid, req: m.req.req}, who: part})
	case mSessionsPart:
		if s := l.sessions[m.req.sid]; s != nil {
			l.sessionsPart(s, m.req.req, m.who)
		}
	case mSessionLoad:
		if s := l.sessions[m.req.sid]; s != nil {
			l.sessionsCounted(s, m.req.req, m.counts)
		}
	case mTick:
		sh := m.shard
		sh.access.lock()
		sh.armed = 0
		sh.eng.Tick(now)
		l.noteEngine(sh, nil, now)
		l.afterEngine(sh, now)
		sh.access.unlock()
	case mSweep:
		l.sweep(now)
	case mShutdown:
		for s := range l.all {
			l.closeWith(s, wire.CodeShutdown, "server shutting down")
		}
	}
}

// shardFor picks the shard of a name: FNV-1a, inline so it allocates nothing.
func (s *Server) shardFor(name []byte) *shard {
	if len(s.shards) == 1 {
		return s.shards[0]
	}
	h := uint32(2166136261)
	for _, c := range name {
		h ^= uint32(c)
		h *= 16777619
	}
	return s.shards[h%uint32(len(s.shards))]
}

// loopOf is the loop that owns session sid (its low byte, see newSessionID).
func (s *Server) loopOf(sid engine.SessionID) *loop { return s.loops[int(sid&0xff)] }

// newSessionID hands out a never-reused id that also names the owning loop.
func (s *Server) newSessionID(l *loop) engine.SessionID {
	return engine.SessionID(s.nextSID.Add(1)<<8 | uint64(l.idx))
}

// submit runs r on sh: inline when this loop may touch sh, else posted to sh's owner.
// r's slices must stay valid only for the call; they are copied when r crosses loops.
func (l *loop) submit(sh *shard, r *request, now int64) {
	if sh.access.local(sh, l) {
		l.exec(sh, r, now)
		return
	}
	m := &message{kind: mRequest, shard: sh, req: *r}
	m.req.name = cloneBytes(r.name)
	m.req.op.lock = cloneBytes(r.op.lock)
	if r.ids != nil {
		m.req.ids = append([]uint64(nil), r.ids...)
	}
	if r.names != nil {
		m.req.names = make([][]byte, len(r.names))
		for i, n := range r.names {
			m.req.names[i] = cloneBytes(n)
		}
	}
	sh.owner.post(m)
}

// exec calls the engine of sh; the caller is allowed to touch sh (see shard).
func (l *loop) exec(sh *shard, r *request, now int64) {
	sh.access.lock()
	defer sh.access.unlock()
	e := sh.eng
	switch r.kind {
	case rAcquire:
		e.Acquire(now, r.sid, r.req, r.name, time.Duration(r.wait), time.Duration(r.ttl))
	case rRelease:
		e.Release(now, r.sid, r.req, r.name, r.token)
	case rReleaseAcquire:
		e.ReleaseAcquire(now, r.sid, r.req, r.name, r.token, r.acq, time.Duration(r.wait), time.Duration(r.ttl))
	case rRenew:
		e.Renew(now, r.sid, r.req, r.name, r.token, time.Duration(r.ttl))
	case rCancel:
		e.Cancel(now, r.sid, r.req, r.target)
	case rCloseSession:
		e.CloseSession(now, r.sid)
	case rOp:
		execOp(e, r, now)
	case rStatus:
		l.statusShard(sh, r, now)
		return
	case rSessionLoad:
		l.sessionLoadShard(sh, r)
		return
	}
	l.noteEngine(sh, r, now)
	l.afterEngine(sh, now)
}

// afterEngine routes the events of sh to their sessions and re-arms sh's timer.
// Called with the right to touch sh. The events bound for another loop travel in one message
// per loop, so an Event SET that wakes waiters on every loop costs each loop one wake-up, and
// each connection gets all of its frames in one write at the end of that loop's turn.
func (l *loop) afterEngine(sh *shard, now int64) {
	evs := sh.eng.Events()
	out := l.xevs
	for i := range evs {
		ev := &evs[i]
		if ev.Kind == engine.EpochBumped {
			// Persist before anything under the new epoch reaches a client.
			if err := l.srv.epochs.persist(uint32(ev.Token)); err != nil {
				l.srv.log.Error("cannot persist fencing-token epoch; tokens may repeat after a restart", "epoch", ev.Token, "err", err)
			}
			continue
		}
		dst := l.srv.loopOf(ev.Session)
		if dst == l {
			if s := l.sessions[ev.Session]; s != nil {
				l.deliver(s, ev)
			}
			continue
		}
		if out == nil {
			out = make([]*message, len(l.srv.loops))
			l.xevs = out
		}
		m := out[dst.idx]
		if m == nil {
			m = &message{kind: mEvents}
			m.evs = m.one[:0]
			out[dst.idx] = m
		}
		own := ownEvent(ev, m.evs)
		m.evs = append(m.evs, own)
	}
	for i, m := range out {
		if m != nil {
			out[i] = nil
			l.srv.loops[i].post(m)
		}
	}
	sh.eng.ClearEvents()
	if d, ok := sh.eng.NextDeadline(); ok && (sh.armed == 0 || d < sh.armed) {
		sh.armed = d
		wait := time.Duration(d - now)
		if wait < 0 {
			wait = 0
		}
		sh.timer.Reset(wait)
	}
}

// ownEvent copies ev out of engine memory (its name and cycle alias it) to cross loops. The
// wake-ups of one Event SET share a name: the copy made for the previous event of the same
// message (prev) is shared rather than made again.
func ownEvent(ev *engine.Event, prev []engine.Event) engine.Event {
	c := *ev
	if k := len(prev); k > 0 && bytes.Equal(prev[k-1].Name, ev.Name) {
		c.Name = prev[k-1].Name
	} else {
		c.Name = cloneBytes(ev.Name)
	}
	if ev.Cycle != nil {
		c.Cycle = make([]engine.Hop, len(ev.Cycle))
		for i, h := range ev.Cycle {
			c.Cycle[i] = engine.Hop{Session: h.Session, Owner: h.Owner, Name: cloneBytes(h.Name)}
		}
	}
	return c
}

// closeSession drops sid from every shard: its locks go to their next waiters.
func (l *loop) closeSession(sid engine.SessionID, now int64) {
	r := request{kind: rCloseSession, sid: sid}
	for _, sh := range l.srv.shards {
		l.submit(sh, &r, now)
	}
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
