package replica

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

// ErrNoSession fails a command of a session that is not open (never opened, or closed):
// without it a command committed after its session's close would pin engine state forever.
var ErrNoSession = errors.New("replica: session not open")

// ErrSnapshot is wrapped by every error of FSM.Restore.
var ErrSnapshot = errors.New("replica: bad snapshot")

// MaxSnapshot bounds the snapshot FSM.Restore reads.
const MaxSnapshot = 1 << 30

const snapshotMagic = "wwlyrepl"

// Result is what one command did: the events it caused (to any session, in engine order; Name
// and Cycle are copies owned by the Result) and, for OpOpenSession, the new session's id.
type Result struct {
	Session engine.SessionID
	Events  []engine.Event
}

// Applied is the FSM's answer for one log entry: the raft ApplyFuture's Response on the node
// that proposed it, and what the FSM's sink receives on every node.
type Applied struct {
	Index   uint64
	Now     int64 // the time the entry was applied at
	Results []Result
	Err     error // the entry did not decode (every replica skips it alike)
}

// FSM applies committed entries to an engine. It implements raft.FSM. Apply, Snapshot and
// Restore are called by raft's FSM goroutine; the read methods (NextDeadline, State) are safe
// from any goroutine.
type FSM struct {
	cfg  engine.Config
	sink func(*Applied) // called after each entry, on raft's FSM goroutine, in log order

	mu          sync.Mutex // guards what follows
	eng         *engine.Engine
	now         int64
	lastSession engine.SessionID
	sessions    map[engine.SessionID][]byte // open sessions and their resume secrets
	en          Entry                       // decoding scratch
}

var _ raft.FSM = (*FSM)(nil)

// NewFSM returns an FSM with an empty engine. Every replica must use the same cfg: the
// engine's limits decide outcomes. sink, if not nil, sees every Applied (it must not block
// for long: it runs on raft's apply path).
func NewFSM(cfg engine.Config, sink func(*Applied)) (*FSM, error) {
	eng, err := engine.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("replica: %w", err)
	}
	return &FSM{cfg: cfg, sink: sink, eng: eng, sessions: map[engine.SessionID][]byte{}}, nil
}

// Apply applies one committed entry and returns its *Applied.
func (f *FSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	ap := &Applied{Index: l.Index}
	if err := DecodeEntry(l.Data, &f.en); err != nil {
		ap.Err = err
		f.mu.Unlock()
		return ap
	}
	f.now = max(f.now, f.en.Now) // time never runs backwards, whatever the leaders' clocks say
	ap.Now = f.now
	ap.Results = make([]Result, len(f.en.Commands))
	for i := range f.en.Commands {
		ap.Results[i] = f.apply(&f.en.Commands[i])
	}
	clear(f.en.Commands) // drop references into l.Data
	f.mu.Unlock()
	if f.sink != nil {
		f.sink(ap)
	}
	return ap
}

// apply runs one command; f.mu must be held.
func (f *FSM) apply(c *Command) Result {
	var res Result
	now, e := f.now, f.eng
	switch c.Op {
	case OpTick:
		e.Tick(now)
	case OpOpenSession:
		f.lastSession++
		res.Session = f.lastSession
		f.sessions[res.Session] = slices.Clone(c.Secret)
		return res
	case OpCloseSession:
		if _, ok := f.sessions[c.Session]; ok {
			delete(f.sessions, c.Session)
			e.CloseSession(now, c.Session)
		}
	default:
		if _, ok := f.sessions[c.Session]; !ok {
			name := c.Name
			if c.Op != OpAcquire && c.Op != OpRelease && c.Op != OpRenew {
				name = c.Kind.Name
			}
			res.Events = []engine.Event{{Kind: engine.Failed, Session: c.Session, Req: c.Req,
				Name: slices.Clone(name), Err: ErrNoSession}}
			return res
		}
		f.applyOp(c)
	}
	res.Events = copyEvents(e.Events())
	e.ClearEvents()
	return res
}

// applyOp runs a command of an open session; f.mu must be held.
func (f *FSM) applyOp(c *Command) {
	now, e := f.now, f.eng
	switch c.Op {
	case OpAcquire:
		e.Acquire(now, c.Session, c.Req, c.Name, c.Wait, c.TTL)
	case OpRelease:
		e.Release(now, c.Session, c.Req, c.Name, c.Token)
	case OpRenew:
		e.Renew(now, c.Session, c.Req, c.Name, c.Token, c.TTL)
	case OpCancel:
		e.Cancel(now, c.Session, c.Req, c.Target)
	case OpAcquireKind:
		e.AcquireKind(now, c.Session, c.Req, c.Kind)
	case OpReleaseKind:
		e.ReleaseKind(now, c.Session, c.Req, c.Kind)
	case OpOpen:
		e.Open(now, c.Session, c.Req, c.Kind)
	case OpCloseName:
		e.CloseName(now, c.Session, c.Req, c.Kind)
	case OpSignal:
		e.Signal(now, c.Session, c.Req, c.Action, c.Kind)
	}
}

// copyEvents copies events out of engine memory (their Name and Cycle alias it).
func copyEvents(evs []engine.Event) []engine.Event {
	if len(evs) == 0 {
		return nil
	}
	out := make([]engine.Event, len(evs))
	for i, ev := range evs {
		ev.Name = slices.Clone(ev.Name)
		if ev.Cycle != nil {
			ev.Cycle = slices.Clone(ev.Cycle)
			for j := range ev.Cycle {
				ev.Cycle[j].Name = slices.Clone(ev.Cycle[j].Name)
			}
		}
		out[i] = ev
	}
	return out
}

// NextDeadline reports the engine's earliest deadline and the time of the last applied entry;
// the leader proposes an OpTick once its clock passes the deadline.
func (f *FSM) NextDeadline() (deadline int64, ok bool, now int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.eng.NextDeadline()
	return d, ok, f.now
}

// State returns the encoded state (what Snapshot persists): equal states, equal bytes.
func (f *FSM) State() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.appendState(nil)
}

// Status reports the lock name as the engine sees it at the last applied entry's time.
func (f *FSM) Status(name []byte) (engine.LockStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.Status(f.now, name)
}

// appendState encodes: magic | version | now | last session | open sessions (id, secret) in
// rising id order | the engine snapshot. f.mu must be held.
func (f *FSM) appendState(b []byte) []byte {
	b = append(b, snapshotMagic...)
	b = binary.AppendUvarint(b, 1)
	b = binary.AppendVarint(b, f.now)
	b = binary.AppendUvarint(b, uint64(f.lastSession))
	ids := make([]engine.SessionID, 0, len(f.sessions))
	for id := range f.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id))
		b = appendBytes(b, f.sessions[id])
	}
	return f.eng.AppendSnapshot(b)
}

// Snapshot encodes the state now (O(live state), on the apply path: the engine keeps only
// live locks, so this stays small) and lets raft persist the bytes concurrently with Apply.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	return &snapshot{data: f.State()}, nil
}

// Restore replaces the state with a snapshot written by Persist. On error the state is unchanged.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, MaxSnapshot+1))
	if err != nil {
		return fmt.Errorf("%w: read: %w", ErrSnapshot, err)
	}
	if len(data) > MaxSnapshot {
		return fmt.Errorf("%w: larger than %d bytes", ErrSnapshot, MaxSnapshot)
	}
	return f.restore(data)
}

func (f *FSM) restore(data []byte) error {
	r := reader{b: data}
	if magic := r.b; len(magic) < len(snapshotMagic) || string(magic[:len(snapshotMagic)]) != snapshotMagic {
		return fmt.Errorf("%w: no magic", ErrSnapshot)
	}
	r.b = r.b[len(snapshotMagic):]
	if v := r.uvarint(); v != 1 {
		return fmt.Errorf("%w: version %d", ErrSnapshot, v)
	}
	now, last := r.varint(), engine.SessionID(r.uvarint())
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return fmt.Errorf("%w: %d sessions in %d bytes", ErrSnapshot, n, len(r.b))
	}
	sessions := make(map[engine.SessionID][]byte, n)
	prev := engine.SessionID(0)
	for range n {
		id := engine.SessionID(r.uvarint())
		sessions[id] = slices.Clone(r.bytes(MaxSecret))
		if r.err == nil && (id <= prev || id > last) {
			r.fail(fmt.Errorf("session %d out of order or beyond %d", id, last))
		}
		prev = id
	}
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, r.err)
	}
	eng, err := engine.New(f.cfg)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if err := eng.Restore(r.b); err != nil {
		return fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	f.mu.Lock()
	f.eng, f.now, f.lastSession, f.sessions = eng, now, last, sessions
	f.mu.Unlock()
	return nil
}

// snapshot is the FSMSnapshot: bytes taken under the FSM's lock, written out by Persist.
type snapshot struct{ data []byte }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("replica: persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) Release() {}

// Locks calls fn for every live lock as the engine sees it at the last applied entry's time,
// until fn returns false. fn runs under the FSM's lock: it must not call the FSM.
func (f *FSM) Locks(fn func(engine.LockStatus) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.eng.Locks(f.now, fn)
}

// SessionOpen reports whether session s is open and was opened with secret (the check of a
// RESUME). An empty secret never matches.
func (f *FSM) SessionOpen(s engine.SessionID, secret []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	sec, ok := f.sessions[s]
	return ok && len(secret) > 0 && subtle.ConstantTimeCompare(sec, secret) == 1
}

// Sessions returns the ids of the open sessions, in rising order.
func (f *FSM) Sessions() []engine.SessionID {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]engine.SessionID, 0, len(f.sessions))
	for id := range f.sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
