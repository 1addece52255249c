package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Snapshots: the whole observable state of an Engine as bytes, so that a replica can bound its
// log (hashicorp/raft FSM.Snapshot/Restore) and a restored engine goes on exactly as the
// original would: same events, same Status, same deadlines, same tokens.
//
// Format (version 2), every integer a varint (signed ones zig-zag), every byte string a
// length-prefixed run:
//
//	magic "wwlysnap" | version | epoch | counter | seq
//	locks: count, then per live lock in live order:
//	  name | kind | param | avail (signed) | held (signed) | excl | flag | bound
//	  holder: 0, or 1 + session | req | owner | token | barges | lease timer
//	  holds (lock order): count, then session | req | token | owner | n | count | shared
//	  waits (queue order): count, then session | req | ttl | enq | timer | owner | n | shared |
//	                       lockKind | count | err (0 none, 1 ErrTimeout)
//	sessions: count, then per session in rising id order:
//	  id | held mutexes (lock index each, grant order) | waits (req each, queue order) |
//	  holds (lock index, hold index) | opens (lock index each)
//	timer: 0 (not armed), or 1 + when (signed) | arming sequence
//
// Version 1 is version 2 without the holder's barges (Handoff streak), which it reads as 0.
//
// What is not kept, because nothing observable depends on it: the hash seed, the ring
// positions (waits are re-packed in order), the reuse lists and the idle lock and session.
// The timer heap is rebuilt from (when, seq), which orders every deadline totally.

// SnapshotVersion is the version AppendSnapshot writes; Restore also reads version 1.
const SnapshotVersion = 2

const snapshotMagic = "wwlysnap"

// ErrSnapshot is wrapped by every error of Restore: the bytes are not a snapshot this engine
// can take (another version, truncated, or a state that breaks an invariant).
var ErrSnapshot = errors.New("engine: bad snapshot")

// AppendSnapshot appends the engine's state to b and returns the extended slice. Pending
// events are not part of the state. The encoding is canonical: equal states, equal bytes.
func (e *Engine) AppendSnapshot(b []byte) []byte {
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, SnapshotVersion)
	b = binary.AppendUvarint(b, e.epoch)
	b = binary.AppendUvarint(b, e.counter)
	b = binary.AppendUvarint(b, e.seq)
	index := make(map[*lockState]uint64, e.nlocks)
	holdIndex := map[*hold]uint64{} // position in its lock's holds, for the sessions' hold lists
	b = binary.AppendUvarint(b, uint64(e.nlocks))
	for l := e.liveHead; l != nil; l = l.lnext {
		index[l] = uint64(len(index))
		i := uint64(0)
		for hd := l.holdHead; hd != nil; hd = hd.lnext {
			holdIndex[hd] = i
			i++
		}
		b = e.appendLock(b, l)
	}
	ids := make([]SessionID, 0, len(e.sessions))
	for id, s := range e.sessions {
		if s != e.idleSess {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = appendSession(b, e.sessions[id], index, holdIndex)
	}
	return b
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendTimer(b []byte, h timerHeap, t *timer) []byte {
	if !t.armed() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.when)
	return binary.AppendUvarint(b, h[t.idx].seq)
}

func (e *Engine) appendLock(b []byte, l *lockState) []byte {
	b = appendBytes(b, l.name)
	b = append(b, byte(l.kind))
	b = binary.AppendUvarint(b, uint64(l.param))
	b = binary.AppendVarint(b, l.avail)
	b = binary.AppendVarint(b, l.held)
	b = appendBool(b, l.excl)
	b = appendBool(b, l.flag)
	if l.kind == PrimCondition { // a recycled state keeps the buffer of an old bound
		b = appendBytes(b, l.bound)
	} else {
		b = append(b, 0)
	}
	if l.holder == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = binary.AppendUvarint(b, uint64(l.holder.id))
		b = binary.AppendUvarint(b, l.holderReq)
		b = binary.AppendUvarint(b, l.holderOwner)
		b = binary.AppendUvarint(b, l.token)
		b = binary.AppendUvarint(b, uint64(l.barges))
		b = appendTimer(b, e.timers, &l.lease)
	}
	b = binary.AppendUvarint(b, uint64(l.nholds))
	for hd := l.holdHead; hd != nil; hd = hd.lnext {
		b = binary.AppendUvarint(b, uint64(hd.sess.id))
		b = binary.AppendUvarint(b, hd.req)
		b = binary.AppendUvarint(b, hd.token)
		b = binary.AppendUvarint(b, hd.owner)
		b = binary.AppendVarint(b, hd.n)
		b = binary.AppendVarint(b, int64(hd.count))
		b = appendBool(b, hd.shared)
	}
	b = binary.AppendUvarint(b, uint64(l.nwait))
	mask := uint64(len(l.ring) - 1)
	for p := l.head; p < l.tail; p++ {
		w := l.ring[p&mask]
		if w == nil {
			continue
		}
		b = binary.AppendUvarint(b, uint64(w.sess.id))
		b = binary.AppendUvarint(b, w.req)
		b = binary.AppendVarint(b, int64(w.ttl))
		b = binary.AppendVarint(b, w.enq)
		b = appendTimer(b, e.timers, &w.tm)
		b = binary.AppendUvarint(b, w.owner)
		b = binary.AppendVarint(b, w.n)
		b = appendBool(b, w.shared)
		b = append(b, byte(w.lockKind))
		b = binary.AppendVarint(b, int64(w.count))
		b = appendBool(b, w.err != nil) // ErrTimeout is the only error a wait carries
	}
	return b
}

func appendSession(b []byte, s *session, index map[*lockState]uint64, holdIndex map[*hold]uint64) []byte {
	b = binary.AppendUvarint(b, uint64(s.id))
	n := 0
	for l := s.heldHead; l != nil; l = l.snext {
		n++
	}
	b = binary.AppendUvarint(b, uint64(n))
	for l := s.heldHead; l != nil; l = l.snext {
		b = binary.AppendUvarint(b, index[l])
	}
	n = 0
	for w := s.waitHead; w != nil; w = w.snext {
		n++
	}
	b = binary.AppendUvarint(b, uint64(n))
	for w := s.waitHead; w != nil; w = w.snext {
		b = binary.AppendUvarint(b, w.req)
	}
	n = 0
	for hd := s.holdHead; hd != nil; hd = hd.snext {
		n++
	}
	b = binary.AppendUvarint(b, uint64(n))
	for hd := s.holdHead; hd != nil; hd = hd.snext {
		b = binary.AppendUvarint(b, index[hd.l])
		b = binary.AppendUvarint(b, holdIndex[hd])
	}
	n = 0
	for o := s.openHead; o != nil; o = o.snext {
		n++
	}
	b = binary.AppendUvarint(b, uint64(n))
	for o := s.openHead; o != nil; o = o.snext {
		b = binary.AppendUvarint(b, index[o.l])
	}
	return b
}

// Restore replaces the state of e with the snapshot in data (written by AppendSnapshot of an
// engine with the same MaxName or a smaller one). Pending events are dropped. e keeps its
// Config except the epoch, which comes from the snapshot. On error, which wraps ErrSnapshot,
// e is unchanged. data is not retained.
func (e *Engine) Restore(data []byte) error {
	n, err := New(e.cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	r := &snapReader{b: data}
	if err := n.decode(r); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the end", ErrSnapshot, len(r.b))
	}
	if err := n.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	*e = *n
	return nil
}

var errShort = errors.New("truncated")

// snapReader reads the snapshot encoding; the first error sticks and later reads return zero.
type snapReader struct {
	b       []byte
	err     error
	version uint64
}

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *snapReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail("%w varint", errShort)
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *snapReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail("%w varint", errShort)
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *snapReader) byte1() byte {
	if len(r.b) == 0 {
		r.fail("%w byte", errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *snapReader) bool1() bool {
	c := r.byte1()
	if c > 1 {
		r.fail("bool byte %d", c)
	}
	return c == 1
}

// bytes reads a byte string of at most limit bytes; the result aliases the input.
func (r *snapReader) bytes(limit int) []byte {
	n := r.uvarint()
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.fail("byte string of %d bytes (limit %d, %d left)", n, limit, len(r.b))
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// count reads a count of records of at least minSize bytes each, so that a forged count
// cannot make the decoder allocate more than the input justifies.
func (r *snapReader) count(minSize int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/minSize) {
		r.fail("count %d exceeds the %d bytes left", n, len(r.b))
		r.b = nil
		return 0
	}
	return int(n)
}

// decoded keeps what the session section refers to while the locks are read.
type decoded struct {
	locks  []*lockState
	holds  [][]*hold
	seqs   map[uint64]bool
	linked map[any]bool // holders, holds and waits linked into their session's lists
	total  int          // holders + holds + waits to link
}

func (e *Engine) decode(r *snapReader) error {
	if magic := r.bytesN(len(snapshotMagic)); string(magic) != snapshotMagic {
		return fmt.Errorf("not a snapshot (magic %q)", magic)
	}
	v := r.uvarint()
	if v != 1 && v != SnapshotVersion {
		return fmt.Errorf("version %d, want 1 or %d", v, SnapshotVersion)
	}
	r.version = v
	e.epoch, e.counter, e.seq = r.uvarint(), r.uvarint(), r.uvarint()
	if e.epoch > MaxEpoch || e.counter > counterMask {
		return fmt.Errorf("epoch %d or counter %#x out of range", e.epoch, e.counter)
	}
	d := &decoded{seqs: map[uint64]bool{}, linked: map[any]bool{}}
	for range r.count(12) { // the smallest lock record
		if err := e.decodeLock(r, d); err != nil {
			return err
		}
	}
	prev := SessionID(0)
	for i := range r.count(5) {
		id := SessionID(r.uvarint())
		if i > 0 && id <= prev {
			return fmt.Errorf("session %d after %d: not in rising order", id, prev)
		}
		prev = id
		if err := e.decodeSession(r, d, id); err != nil {
			return fmt.Errorf("session %d: %w", id, err)
		}
	}
	if r.err != nil {
		return r.err
	}
	if len(d.linked) != d.total {
		return fmt.Errorf("%d holders, holds and waits, %d in session lists", d.total, len(d.linked))
	}
	for _, l := range d.locks {
		if l.kind == PrimMutex && l.nopen > 0 {
			return fmt.Errorf("mutex %q is open", l.name)
		}
	}
	for id, s := range e.sessions {
		if s.heldHead == nil && s.waitHead == nil && s.holdHead == nil && s.openHead == nil {
			return fmt.Errorf("session %d has nothing", id)
		}
	}
	return nil
}

func (r *snapReader) bytesN(n int) []byte {
	if len(r.b) < n {
		r.fail("%w: %d bytes wanted", errShort, n)
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// decodeTimer reads a timer and arms t with it, checking that its arming sequence is unique
// and not ahead of the engine's.
func (e *Engine) decodeTimer(r *snapReader, d *decoded, t *timer) error {
	if !r.bool1() {
		return r.err
	}
	when, seq := r.varint(), r.uvarint()
	if r.err != nil {
		return r.err
	}
	if seq == 0 || seq > e.seq || d.seqs[seq] {
		return fmt.Errorf("timer sequence %d repeated or beyond %d", seq, e.seq)
	}
	d.seqs[seq] = true
	t.when, t.idx = when, len(e.timers)
	e.timers = append(e.timers, timerEntry{when: when, seq: seq, t: t})
	e.timers.up(t.idx)
	return nil
}

// sess returns the session id, created empty when new; the session section links it.
func (e *Engine) sessFor(id SessionID) *session {
	if s := e.sessions[id]; s != nil {
		return s
	}
	s := &session{id: id}
	e.sessions[id] = s
	return s
}

func (e *Engine) decodeLock(r *snapReader, d *decoded) error {
	name := r.bytes(e.cfg.MaxName)
	kind := Prim(r.byte1())
	param := r.uvarint()
	avail, held := r.varint(), r.varint()
	excl, flag := r.bool1(), r.bool1()
	bound := r.bytes(e.cfg.MaxName)
	if r.err != nil {
		return r.err
	}
	switch {
	case len(name) == 0 || kind >= numPrims || param > 1<<32-1:
		return fmt.Errorf("lock %q: kind %d, param %d", name, kind, param)
	case kind.hasParam() && param == 0, (kind == PrimCondition) != (len(bound) > 0),
		excl && kind != PrimRWMutex, flag && kind != PrimEvent && kind != PrimBarrier:
		return fmt.Errorf("%v %q: param %d, bound %q, exclusive %v, flag %v", kind, name, param, bound, excl, flag)
	}
	h := hashName(e, name)
	if e.find(h, name) != nil {
		return fmt.Errorf("lock %q twice", name)
	}
	l := e.newLock(h, name, e.allocLock(h, name), kind)
	l.param, l.avail, l.held, l.excl, l.flag = uint32(param), avail, held, excl, flag
	l.bound = append(l.bound[:0], bound...)
	d.locks = append(d.locks, l)
	if r.bool1() {
		if kind != PrimMutex {
			return fmt.Errorf("%v %q has a mutex holder", kind, name)
		}
		l.holder = e.sessFor(SessionID(r.uvarint()))
		l.holderReq, l.holderOwner, l.token = r.uvarint(), r.uvarint(), r.uvarint()
		if r.version >= 2 {
			b := r.uvarint()
			if b > MaxBarge {
				return fmt.Errorf("mutex %q: barge streak %d exceeds %d", name, b, MaxBarge)
			}
			l.barges = int(b)
		}
		if err := e.decodeTimer(r, d, &l.lease); err != nil {
			return err
		}
		d.total++
	}
	var holds []*hold
	for range r.count(7) {
		if !kind.holds() {
			return fmt.Errorf("%v %q has holds", kind, name)
		}
		hd := &hold{l: l, sess: e.sessFor(SessionID(r.uvarint())), req: r.uvarint(), token: r.uvarint(),
			owner: r.uvarint(), n: r.varint(), count: int(r.varint()), shared: r.bool1()}
		l.linkHold(hd)
		holds = append(holds, hd)
	}
	d.holds = append(d.holds, holds)
	d.total += len(holds)
	return e.decodeWaits(r, d, l)
}

func (e *Engine) decodeWaits(r *snapReader, d *decoded, l *lockState) error {
	n := r.count(11) // the smallest wait record
	if n > 0 {
		l.ring = make([]*waiter, ceilPow2(max(n, e.ringCap)))
	}
	for range n {
		w := &waiter{lock: l, sess: e.sessFor(SessionID(r.uvarint())), req: r.uvarint()}
		w.tm.w, w.tm.idx = w, -1
		w.ttl, w.enq = timeDuration(r.varint()), r.varint()
		if err := e.decodeTimer(r, d, &w.tm); err != nil {
			return err
		}
		w.owner, w.n, w.shared = r.uvarint(), r.varint(), r.bool1()
		w.lockKind, w.count = Prim(r.byte1()), int(r.varint())
		if r.bool1() {
			w.err = ErrTimeout
		}
		if r.err != nil {
			return r.err
		}
		if w.n < 0 || (w.n == 0 && l.kind.holds()) || w.count < 0 || (l.kind == PrimCondition && w.lockKind != PrimMutex && w.lockKind != PrimRLock) {
			return fmt.Errorf("%v %q: wait %d: %d permits, depth %d, lock kind %v", l.kind, l.name, w.req, w.n, w.count, w.lockKind)
		}
		key := waitKey{w.sess.id, w.req}
		if e.waiting[key] != nil {
			return fmt.Errorf("wait (%d, %d) twice", w.sess.id, w.req)
		}
		e.waiting[key] = w
		w.pos = l.tail
		l.ring[l.tail] = w
		l.tail++
		l.nwait++
		d.total++
	}
	return r.err
}

func timeDuration(v int64) time.Duration { return time.Duration(v) }

// decodeSession links the session's held mutexes, waits, holds and opens in their order.
func (e *Engine) decodeSession(r *snapReader, d *decoded, id SessionID) error {
	s := e.sessFor(id)
	lockAt := func() (*lockState, int) {
		i := r.uvarint()
		if r.err != nil || i >= uint64(len(d.locks)) {
			r.fail("lock index %d of %d", i, len(d.locks))
			return nil, -1
		}
		return d.locks[i], int(i)
	}
	for range r.count(1) {
		l, _ := lockAt()
		if l == nil || l.holder != s || d.linked[l] {
			return fmt.Errorf("held mutex not held by it, or listed twice: %w", errOr(r.err))
		}
		d.linked[l] = true
		s.linkHeld(l)
	}
	for range r.count(1) {
		w := e.waiting[waitKey{id, r.uvarint()}]
		if w == nil || d.linked[w] {
			return fmt.Errorf("wait unknown or listed twice: %w", errOr(r.err))
		}
		d.linked[w] = true
		s.linkWait(w)
	}
	for range r.count(2) {
		l, li := lockAt()
		i := r.uvarint()
		if l == nil {
			return errOr(r.err)
		}
		hs := d.holds[li]
		if i >= uint64(len(hs)) || hs[i].sess != s || d.linked[hs[i]] {
			return fmt.Errorf("hold %d of %q not its own, or listed twice", i, l.name)
		}
		hd := hs[i]
		d.linked[hd] = true
		s.linkHold(hd)
	}
	for range r.count(1) {
		l, _ := lockAt()
		if l == nil {
			return errOr(r.err)
		}
		s.linkOpen(&hold{l: l, sess: s})
	}
	return r.err
}

// errOr names a link error that is not a read error.
func errOr(err error) error {
	if err != nil {
		return err
	}
	return errors.New("bad reference")
}
