package futexlock

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wwly/wwly/internal/futex"
)

// ErrGaveUp: Acquire's deadline passed or its done channel closed before the grant; the ticket
// was abandoned (or, when the grant won that race, passed straight on), so the lock is not held.
var ErrGaveUp = errors.New("futexlock: gave up waiting")

// magic marks an initialised lock file ("wwlyfutx").
const magic = 0x7774_6c79_6675_7478

const (
	headerSize = 32
	slotSize   = 16

	phaseWaiting   = 1
	phaseGranted   = 2
	phaseAbandoned = 3

	// cancelPoll is how often a waiter with a done channel but no deadline looks at it: a
	// channel cannot interrupt a futex wait.
	cancelPoll = 100 * time.Millisecond
)

// Lock is one mapped lock file. Its methods are safe for concurrent use by any number of
// goroutines and processes; a ticket returned by Acquire is released exactly once, by anyone.
type Lock struct {
	mem     []byte
	raw     bool // wait with RawSyscall6 (see Wait)
	slots   uint64
	next    *atomic.Uint64
	serving *atomic.Uint64
}

// Map opens (creating if needed) and maps the lock file at path, made for slots slots, waiting
// as wait says. Creation
// races between processes are harmless: the file starts as zeros, which is the free lock, and
// ftruncate to the same size is idempotent; the magic word and slot count are set once by CAS
// and then checked.
func Map(path string, slots int, wait Wait) (*Lock, error) {
	if slots < 2 || slots > 1<<22 {
		return nil, fmt.Errorf("%w: %d slots (want 2..%d)", ErrFile, slots, 1<<22)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	defer f.Close() // the mapping outlives the fd
	size := headerSize + slots*slotSize
	// Only ever grow the file: shrinking it under another process's mapping would make that
	// process fault (SIGBUS) instead of failing the slot check below.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: stat %s: %w", ErrFile, path, err)
	}
	if st.Size() < int64(size) {
		if err := f.Truncate(int64(size)); err != nil {
			return nil, fmt.Errorf("%w: size %s: %w", ErrFile, path, err)
		}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%w: mmap %s: %w", ErrFile, path, err)
	}
	m := (*atomic.Uint64)(unsafe.Pointer(&mem[0]))
	n := (*atomic.Uint64)(unsafe.Pointer(&mem[8]))
	n.CompareAndSwap(0, uint64(slots))
	m.CompareAndSwap(0, magic)
	if gotMagic, gotSlots := m.Load(), n.Load(); gotMagic != magic || gotSlots != uint64(slots) {
		_ = unix.Munmap(mem) // read both words first: they live in the mapping
		return nil, fmt.Errorf("%w: %s was made for %d slots, not %d", ErrFile, path, gotSlots, slots)
	}
	return &Lock{
		mem:     mem,
		raw:     wait == WaitRaw,
		slots:   uint64(slots),
		next:    (*atomic.Uint64)(unsafe.Pointer(&mem[16])),
		serving: (*atomic.Uint64)(unsafe.Pointer(&mem[24])),
	}, nil
}

// Close unmaps the file. The Lock must not be used afterwards.
func (l *Lock) Close() error {
	if l.mem == nil {
		return nil
	}
	err := unix.Munmap(l.mem)
	l.mem = nil
	return err
}

func (l *Lock) state(t uint64) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&l.mem[headerSize+(t%l.slots)*slotSize]))
}

func (l *Lock) seq(t uint64) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&l.mem[headerSize+(t%l.slots)*slotSize+8]))
}

// Acquire takes a ticket and sleeps on its slot until the releaser grants it, then returns the
// ticket (the fencing token is ticket+1). A zero deadline and a nil done wait for as long as it
// takes, in one untimed futex wait per wake-up. When the deadline passes or done closes first,
// the ticket is abandoned and the releaser will skip it; if the grant won that race the lock is
// passed on at once, so a failed Acquire never holds.
func (l *Lock) Acquire(deadline time.Time, done <-chan struct{}) (uint64, error) {
	// Tickets in flight must fit the slots; refuse rather than share a slot, which would hang a
	// waiter. Racy by design: it catches a file made too small, not a legitimate load.
	serving := l.serving.Load() // first: next only grows and never trails serving, so no underflow
	if inFlight := l.next.Load() - serving; inFlight >= l.slots-1 {
		return 0, fmt.Errorf("%w: %d tickets in flight for %d slots", ErrSlots, inFlight, l.slots)
	}
	t := l.next.Add(1) - 1
	st := l.state(t)
	// Announce the wait, unless the releaser got here first and pre-granted the ticket.
	for {
		old := st.Load()
		if old == t<<2|phaseGranted {
			return t, nil
		}
		if st.CompareAndSwap(old, t<<2|phaseWaiting) {
			break
		}
	}
	if l.serving.Load() == t {
		// Our turn already (the lock was free, or the releaser found no ticket t yet): grant
		// ourselves. A failing CAS means the releaser granted it meanwhile.
		st.CompareAndSwap(t<<2|phaseWaiting, t<<2|phaseGranted)
		return t, nil
	}
	return l.wait(t, deadline, done)
}

func (l *Lock) wait(t uint64, deadline time.Time, done <-chan struct{}) (uint64, error) {
	st, seq := l.state(t), l.seq(t)
	for {
		v := seq.Load() // read before the check, so a grant after it changes the word: no lost wake
		if st.Load() == t<<2|phaseGranted {
			return t, nil
		}
		var ts *unix.Timespec
		if !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, l.abandon(t)
			}
			spec := unix.NsecToTimespec(int64(d))
			ts = &spec
		} else if done != nil {
			spec := unix.NsecToTimespec(int64(cancelPoll))
			ts = &spec
		}
		if l.raw {
			futex.WaitRaw(seq, v, ts)
		} else {
			futex.Wait(seq, v, ts)
		}
		if done != nil {
			select {
			case <-done:
				return 0, l.abandon(t)
			default:
			}
		}
	}
}

// abandon gives up ticket t. If the releaser granted it first, the lock is ours: pass it on.
func (l *Lock) abandon(t uint64) error {
	if !l.state(t).CompareAndSwap(t<<2|phaseWaiting, t<<2|phaseAbandoned) {
		l.Release(t)
	}
	return ErrGaveUp
}

// TryAcquire takes a ticket only when it would be served at once (a CAS of next from serving).
func (l *Lock) TryAcquire() (uint64, bool) {
	s := l.serving.Load()
	if !l.next.CompareAndSwap(s, s+1) {
		return 0, false
	}
	// Ticket s is ours and being served; mark it granted so a releaser does not wait on it.
	st := l.state(s)
	for {
		old := st.Load()
		if old == s<<2|phaseGranted || st.CompareAndSwap(old, s<<2|phaseGranted) {
			return s, true
		}
	}
}

// Release passes the lock from ticket t to the next live ticket, waking exactly its slot.
func (l *Lock) Release(t uint64) {
	for n := t + 1; ; n++ {
		l.serving.Store(n)
		if l.next.Load() <= n {
			return // ticket n not issued yet: its taker will see serving == n and grant itself
		}
		if l.grant(n) {
			return
		}
	}
}

// grant hands the lock to ticket n; false when n was abandoned and must be skipped.
func (l *Lock) grant(n uint64) bool {
	st := l.state(n)
	for {
		old := st.Load()
		switch old {
		case n<<2 | phaseAbandoned:
			return false // its waiter left; pass over it
		case n<<2 | phaseGranted:
			return true // its taker granted itself
		}
		// Waiting, or not yet announced (the slot still holds an older ticket's state): grant
		// it; the taker's announce CAS will then see the grant.
		if st.CompareAndSwap(old, n<<2|phaseGranted) {
			seq := l.seq(n)
			seq.Add(1)
			futex.Wake(seq, 1<<30) // slots ≥ tickets in flight: at most one waiter
			return true
		}
	}
}
