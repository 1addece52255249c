// Package replica runs the wwly engine as the replicated state machine of a hashicorp/raft
// cluster: every engine input is a command in a log entry stamped with the leader's clock,
// every replica applies the committed entries to its own engine in log order and so reaches
// the same state, and only the leader turns the resulting events into answers for clients.
//
// The pieces: the entry encoding (this file), the FSM that applies entries and snapshots the
// engine (fsm.go), and the Node that proposes batches of commands through raft and routes the
// committed events to the callers waiting for them (node.go). docs/replication.md says what
// survives what and what is still planned.
package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/wwly/wwly/engine"
)

// Op says which engine input a Command carries.
type Op uint8

const (
	OpAcquire      Op = iota + 1 // engine.Acquire(Session, Req, Name, Wait, TTL)
	OpRelease                    // engine.Release(Session, Req, Name, Token)
	OpRenew                      // engine.Renew(Session, Req, Name, Token, TTL)
	OpCancel                     // engine.Cancel(Session, Req, Target)
	OpAcquireKind                // engine.AcquireKind(Session, Req, Kind)
	OpReleaseKind                // engine.ReleaseKind(Session, Req, Kind)
	OpOpen                       // engine.Open(Session, Req, Kind)
	OpCloseName                  // engine.CloseName(Session, Req, Kind)
	OpSignal                     // engine.Signal(Session, Req, Action, Kind)
	OpOpenSession                // a new session (id chosen by the FSM), with the client's Secret
	OpCloseSession               // engine.CloseSession(Session): closed by its client or expired by the leader
	OpTick                       // engine.Tick at the entry's time: fire the deadlines that are due
	numOps
)

// String names the op, for logs and test failures.
func (o Op) String() string {
	names := [...]string{"?", "acquire", "release", "renew", "cancel", "acquire-kind", "release-kind",
		"open", "close-name", "signal", "open-session", "close-session", "tick"}
	if o < numOps {
		return names[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Command is one engine input. Only the fields of its Op are encoded; Kind.Name is the name of
// the *Kind ops, Name that of the mutex ops.
type Command struct {
	Op      Op
	Session engine.SessionID
	Req     uint64
	Name    []byte
	Wait    time.Duration
	TTL     time.Duration
	Token   uint64
	Target  uint64
	Action  engine.Action
	Kind    engine.Op
	Secret  []byte // OpOpenSession: the client's resume secret (at most MaxSecret bytes)
}

// Entry is the payload of one raft log entry: a batch of commands applied at one time, Now,
// read from the leader's clock when it proposed the batch (Unix nanoseconds). The FSM never
// reads a clock; it applies max(Now, the previous entry's time) so time never runs backwards
// across leaders whose clocks disagree.
type Entry struct {
	Now      int64
	Commands []Command
}

// Limits of the decoder, so that a corrupt or hostile entry cannot make it allocate much.
const (
	MaxName     = 1 << 10 // longer names fail in the engine anyway (engine.Config.MaxName)
	MaxSecret   = 64
	MaxCommands = 1 << 16

	entryVersion = 1
)

// ErrEntry is wrapped by every decoding error.
var ErrEntry = errors.New("replica: bad log entry")

// AppendEntry appends the encoding of en to b: version | now | count | commands.
func AppendEntry(b []byte, en *Entry) []byte {
	b = append(b, entryVersion)
	b = binary.AppendVarint(b, en.Now)
	b = binary.AppendUvarint(b, uint64(len(en.Commands)))
	for i := range en.Commands {
		b = appendCommand(b, &en.Commands[i])
	}
	return b
}

func appendCommand(b []byte, c *Command) []byte {
	b = append(b, byte(c.Op))
	switch c.Op {
	case OpTick:
		return b
	case OpOpenSession:
		return appendBytes(b, c.Secret)
	}
	b = binary.AppendUvarint(b, uint64(c.Session))
	if c.Op == OpCloseSession {
		return b
	}
	b = binary.AppendUvarint(b, c.Req)
	switch c.Op {
	case OpAcquire:
		b = appendBytes(b, c.Name)
		b = binary.AppendVarint(b, int64(c.Wait))
		b = binary.AppendVarint(b, int64(c.TTL))
	case OpRelease:
		b = appendBytes(b, c.Name)
		b = binary.AppendUvarint(b, c.Token)
	case OpRenew:
		b = appendBytes(b, c.Name)
		b = binary.AppendUvarint(b, c.Token)
		b = binary.AppendVarint(b, int64(c.TTL))
	case OpCancel:
		b = binary.AppendUvarint(b, c.Target)
	case OpSignal:
		b = append(b, byte(c.Action))
		b = appendKind(b, &c.Kind)
	default: // the *Kind ops
		b = appendKind(b, &c.Kind)
	}
	return b
}

func appendKind(b []byte, k *engine.Op) []byte {
	b = append(b, byte(k.Prim))
	b = appendBytes(b, k.Name)
	b = binary.AppendUvarint(b, k.Owner)
	b = binary.AppendUvarint(b, uint64(k.N))
	b = binary.AppendUvarint(b, uint64(k.Value))
	var flags byte
	if k.Shared {
		flags |= 1
	}
	if k.Detect {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, k.Token)
	b = appendBytes(b, k.Lock)
	return binary.AppendVarint(b, int64(k.Wait))
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// DecodeEntry decodes data into en, reusing en.Commands. Names and secrets alias data, which
// must stay unchanged while en is used. Errors wrap ErrEntry.
func DecodeEntry(data []byte, en *Entry) error {
	r := reader{b: data}
	if v := r.byte1(); v != entryVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrEntry, v, entryVersion)
	}
	en.Now = r.varint()
	n := r.uvarint()
	if n > MaxCommands || n > uint64(len(r.b)) { // every command takes at least one byte
		return fmt.Errorf("%w: %d commands in %d bytes", ErrEntry, n, len(r.b))
	}
	en.Commands = en.Commands[:0]
	for range n {
		var c Command
		r.command(&c)
		if r.err != nil {
			return fmt.Errorf("%w: command %d: %w", ErrEntry, len(en.Commands), r.err)
		}
		en.Commands = append(en.Commands, c)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes after the last command", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("%w: %w", ErrEntry, r.err)
	}
	return nil
}

// reader decodes; the first error sticks and later reads return zero values.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated")

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) byte1() byte {
	if len(r.b) == 0 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) uint32() uint32 {
	v := r.uvarint()
	if v > 1<<32-1 {
		r.fail(fmt.Errorf("%d exceeds 32 bits", v))
	}
	return uint32(v)
}

// bytes reads a length-prefixed string of at most limit bytes, aliasing the input; nil when empty.
func (r *reader) bytes(limit int) []byte {
	n := r.uvarint()
	if n > uint64(limit) || n > uint64(len(r.b)) {
		r.fail(fmt.Errorf("string of %d bytes (limit %d, %d left)", n, limit, len(r.b)))
		return nil
	}
	if n == 0 {
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) command(c *Command) {
	c.Op = Op(r.byte1())
	switch c.Op {
	case OpTick:
		return
	case OpOpenSession:
		c.Secret = r.bytes(MaxSecret)
		return
	}
	if c.Op == 0 || c.Op >= numOps {
		r.fail(fmt.Errorf("unknown op %d", c.Op))
		return
	}
	c.Session = engine.SessionID(r.uvarint())
	if c.Op == OpCloseSession {
		return
	}
	c.Req = r.uvarint()
	switch c.Op {
	case OpAcquire:
		c.Name, c.Wait, c.TTL = r.bytes(MaxName), time.Duration(r.varint()), time.Duration(r.varint())
	case OpRelease:
		c.Name, c.Token = r.bytes(MaxName), r.uvarint()
	case OpRenew:
		c.Name, c.Token, c.TTL = r.bytes(MaxName), r.uvarint(), time.Duration(r.varint())
	case OpCancel:
		c.Target = r.uvarint()
	case OpSignal:
		c.Action = engine.Action(r.byte1())
		r.kind(&c.Kind)
	default:
		r.kind(&c.Kind)
	}
}

func (r *reader) kind(k *engine.Op) {
	k.Prim = engine.Prim(r.byte1())
	k.Name, k.Owner, k.N, k.Value = r.bytes(MaxName), r.uvarint(), r.uint32(), r.uint32()
	flags := r.byte1()
	if flags > 3 {
		r.fail(fmt.Errorf("flags %#x", flags))
	}
	k.Shared, k.Detect = flags&1 != 0, flags&2 != 0
	k.Token, k.Lock, k.Wait = r.uvarint(), r.bytes(MaxName), time.Duration(r.varint())
}
