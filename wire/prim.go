package wire

import (
	"math"
	"strconv"
	"strings"
)

// Version 2 frames: every primitive of Python's threading module by name (docs/protocol.md
// section 10). OP is one request of any kind and action; ACQUIRED answers an OP ACQUIRE.

// Prim is the kind of a name in an OP frame.
type Prim uint8

const (
	PrimMutex            Prim = 1 // threading.Lock; what ACQUIRE/RELEASE serve
	PrimRLock            Prim = 2 // re-entrant by (session, owner)
	PrimSemaphore        Prim = 3 // value permits
	PrimBoundedSemaphore Prim = 4 // releases may not exceed what is held
	PrimRWMutex          Prim = 5 // shared (flag SHARED) or exclusive
	PrimEvent            Prim = 6
	PrimBarrier          Prim = 7 // value parties
	PrimCondition        Prim = 8 // bound to the Mutex or RLock named in lock
	LastPrim                  = PrimCondition
)

var primNames = [...]string{
	PrimMutex: "MUTEX", PrimRLock: "RLOCK", PrimSemaphore: "SEMAPHORE", PrimBoundedSemaphore: "BOUNDED_SEMAPHORE",
	PrimRWMutex: "RWMUTEX", PrimEvent: "EVENT", PrimBarrier: "BARRIER", PrimCondition: "CONDITION",
}

// String is the kind's name in docs/protocol.md, or "PRIM(n)".
func (p Prim) String() string {
	if int(p) < len(primNames) && primNames[p] != "" {
		return primNames[p]
	}
	return "PRIM(" + strconv.Itoa(int(p)) + ")"
}

// Action is what an OP frame asks.
type Action uint8

const (
	ActAcquire   Action = 1  // acquire / wait (Event, Barrier, Condition); reply ACQUIRED
	ActRelease   Action = 2  // release (Mutex, RLock, Semaphore, RWMutex); reply OK
	ActOpen      Action = 3  // keep the name's state while open; reply OK
	ActClose     Action = 4  // undo one OPEN; reply OK
	ActSet       Action = 5  // Event
	ActClear     Action = 6  // Event
	ActAbort     Action = 7  // Barrier
	ActReset     Action = 8  // Barrier
	ActNotify    Action = 9  // Condition: wake n (0 = 1)
	ActNotifyAll Action = 10 // Condition
	LastAction          = ActNotifyAll
)

var actionNames = [...]string{
	ActAcquire: "ACQUIRE", ActRelease: "RELEASE", ActOpen: "OPEN", ActClose: "CLOSE", ActSet: "SET",
	ActClear: "CLEAR", ActAbort: "ABORT", ActReset: "RESET", ActNotify: "NOTIFY", ActNotifyAll: "NOTIFY_ALL",
}

// String is the action's name in docs/protocol.md, or "ACTION(n)".
func (a Action) String() string {
	if int(a) < len(actionNames) && actionNames[a] != "" {
		return actionNames[a]
	}
	return "ACTION(" + strconv.Itoa(int(a)) + ")"
}

// Flags of an OP frame.
type Flags uint8

const (
	FlagDetect Flags = 1 << 0 // ACQUIRE: fail with DEADLOCK instead of waiting into a cycle
	FlagShared Flags = 1 << 1 // RWMutex ACQUIRE: a shared (read) hold
	knownFlags       = FlagDetect | FlagShared
)

// String lists the flags as in docs/protocol.md, e.g. "DETECT|SHARED"; "0" for none.
func (f Flags) String() string {
	var parts []string
	if f&FlagDetect != 0 {
		parts = append(parts, "DETECT")
	}
	if f&FlagShared != 0 {
		parts = append(parts, "SHARED")
	}
	if rest := f &^ knownFlags; rest != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

const (
	opFixed       = 1 + 1 + 1 + 4 + 4 + 8 + 8 + 8 + 2 // prim .. wait, name length
	acquiredBody  = 8 + 8 + 2                         // token, value, code
	opLockLenSize = 2
)

// AppendOp appends OP(req, ...) from the OP fields of f (Prim, Action, Flags, N, Param,
// Owner, Token, Wait, Name, Lock); f.Type and f.Req are ignored in favour of OP and req.
func AppendOp(dst []byte, req uint64, f *Frame) []byte {
	if len(f.Name) > math.MaxUint16 || len(f.Lock) > math.MaxUint16 {
		return poison(dst)
	}
	dst = header(dst, Op, req, opFixed+len(f.Name)+opLockLenSize+len(f.Lock))
	dst = append(dst, byte(f.Prim), byte(f.Action), byte(f.Flags))
	dst = be.AppendUint32(dst, f.N)
	dst = be.AppendUint32(dst, f.Param)
	dst = be.AppendUint64(dst, f.Owner)
	dst = be.AppendUint64(dst, f.Token)
	dst = be.AppendUint64(dst, uint64(f.Wait))
	dst = appendBytes(dst, f.Name)
	return appendBytes(dst, f.Lock)
}

// AppendAcquired appends ACQUIRED(req, token, value, code): the OP ACQUIRE req succeeded.
// value is a Barrier's arrival index (0 otherwise); code is 0, or CodeTimeout for a Condition
// wait that timed out (the lock is held again under token all the same).
func AppendAcquired(dst []byte, req, token uint64, value int64, code Code) []byte {
	dst = header(dst, Acquired, req, acquiredBody)
	dst = be.AppendUint64(dst, token)
	dst = be.AppendUint64(dst, uint64(value))
	return be.AppendUint16(dst, uint16(code))
}

func decodeOp(c *cursor, lim Limits, f *Frame) error {
	f.Prim, f.Action, f.Flags = Prim(c.u8()), Action(c.u8()), Flags(c.u8())
	f.N = c.u32()
	f.Param = c.u32()
	f.Owner = c.u64()
	f.Token = c.u64()
	f.Wait = int64(c.u64())
	f.Name = c.bytes()
	f.Lock = c.bytes()
	if err := c.end(Op); err != nil {
		return err
	}
	if err := checkName(Op, f.Name, lim); err != nil {
		return err
	}
	if len(f.Lock) > lim.MaxName {
		return checkName(Op, f.Lock, lim)
	}
	return nil
}

// Hop is one step of a DEADLOCK cycle: Owner of Session waits for the lock Name, held by the
// next hop's owner (the last hop's lock by the first hop's owner, the requester).
type Hop struct {
	Session uint64
	Owner   uint64
	Name    []byte
}

// FormatCycle renders a cycle as the message of ERROR(DEADLOCK), the format of
// docs/protocol.md: "deadlock: " then the hops joined by " -> ", each
// "session/owner waits for <quoted name>", e.g.
// deadlock: 7/0 waits for "a" -> 9/0 waits for "b".
func FormatCycle(hops []Hop) string {
	var b strings.Builder
	b.WriteString("deadlock: ")
	for i, h := range hops {
		if i > 0 {
			b.WriteString(" -> ")
		}
		b.WriteString(strconv.FormatUint(h.Session, 10))
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(h.Owner, 10))
		b.WriteString(" waits for ")
		b.WriteString(strconv.Quote(string(h.Name)))
	}
	return b.String()
}
