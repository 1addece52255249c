package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// envFutexSlots is the Env key holding the number of wait slots per name.
const envFutexSlots = "slots"

// futexMagic marks an initialised lock file ("wwlyfutx").
const futexMagic = 0x7774_6c79_6675_7478

// futexBackend is a strict-FIFO ticket lock in a shared mmap'd file per name, handing off with
// exactly one futex wake of the next ticket's slot: the physical limit of a fair handoff between
// processes on this host, with no network at all. Its token is the ticket number + 1.
//
// Layout of a name's file (all words naturally aligned, shared by every process mapping it):
//
//	header: magic, slots, next (tickets issued), serving (lowest ticket not yet passed)
//	slot[i], i < slots: state uint64 = ticket<<2 | phase, seq uint32 (futex word), pad
//
// Ticket t uses slot[t % slots]. A slot's state is changed only by CAS on ticket-tagged values, so
// the releaser and a waiter agree on exactly one outcome for a ticket: granted, or abandoned (its
// waiter's ctx ended), which the releaser skips. slots ≥ 2 × MaxWorkers keeps the tickets in
// flight (at most one per worker, plus rare abandoned ones) on distinct slots.
//
// Like any user-space ticket lock it is not robust: a process killed while it holds a ticket (held
// or waiting) stalls that name for good. The harness stops workers only between cycles.
type futexBackend struct{}

func (futexBackend) Name() string    { return "futex-fifo" }
func (futexBackend) Exclusive() bool { return true }
func (futexBackend) Tokens() bool    { return true }

func (futexBackend) Start(_ context.Context, opts StartOptions) (Instance, error) {
	dir, err := lockDir(opts.Dir, "futex")
	if err != nil {
		return nil, err
	}
	slots := max(2*opts.MaxWorkers, 256)
	return &procInstance{env: Env{envDir: dir, envFutexSlots: strconv.Itoa(slots)}}, nil
}

func (futexBackend) Connect(_ context.Context, env Env) (Client, error) {
	dir := env[envDir]
	if dir == "" {
		return nil, fmt.Errorf("bench: futex-fifo: env has no %q", envDir)
	}
	slots, err := strconv.Atoi(env[envFutexSlots])
	if err != nil || slots < 2 || slots > 1<<22 {
		return nil, fmt.Errorf("bench: futex-fifo: bad %q %q", envFutexSlots, env[envFutexSlots])
	}
	return &futexClient{dir: dir, slots: slots}, nil
}

// futex(2) operations (linux/futex.h); shared, not FUTEX_PRIVATE_FLAG, as the words live in a
// file mapping shared between processes.
const (
	futexOpWait = 0
	futexOpWake = 1
)

const (
	futexHeaderSize = 32
	futexSlotSize   = 16

	phaseWaiting   = 1
	phaseGranted   = 2
	phaseAbandoned = 3
)

// futexClient is goroutine-safe; each Locker is for one goroutine at a time.
type futexClient struct {
	dir   string
	slots int

	mu    sync.Mutex
	names map[string]*futexLock // mu guards; one mapping per name per Client
}

// errFutexSlots: more lockers wait on one name than the file has slots (StartOptions.MaxWorkers
// was too low).
var errFutexSlots = errors.New("too many waiters for the slots; raise StartOptions.MaxWorkers")

// futexLock is one name's mapped file.
type futexLock struct {
	mem     []byte
	slots   uint64
	next    *atomic.Uint64
	serving *atomic.Uint64
}

func (f *futexLock) state(t uint64) *atomic.Uint64 {
	return (*atomic.Uint64)(unsafe.Pointer(&f.mem[futexHeaderSize+(t%f.slots)*futexSlotSize]))
}

func (f *futexLock) seq(t uint64) *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Pointer(&f.mem[futexHeaderSize+(t%f.slots)*futexSlotSize+8]))
}

func (c *futexClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: futex-fifo: empty lock name")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = make(map[string]*futexLock)
	}
	fl := c.names[name]
	if fl == nil {
		var err error
		if fl, err = mapFutexFile(filepath.Join(c.dir, nameFile("futex-", name)), c.slots); err != nil {
			return nil, err
		}
		c.names[name] = fl
	}
	return &futexLocker{l: fl}, nil
}

// mapFutexFile opens (creating if needed) and maps a name's file. Creation races between
// processes are harmless: the file starts as zeros, which is the empty lock, and ftruncate to the
// same size is idempotent; the magic word and slot count are set once by CAS and then checked.
func mapFutexFile(path string, slots int) (*futexLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bench: futex-fifo: %w", err)
	}
	defer f.Close() // the mapping outlives the fd
	size := futexHeaderSize + slots*futexSlotSize
	if err := f.Truncate(int64(size)); err != nil {
		return nil, fmt.Errorf("bench: futex-fifo: size %s: %w", path, err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("bench: futex-fifo: mmap %s: %w", path, err)
	}
	magic := (*atomic.Uint64)(unsafe.Pointer(&mem[0]))
	nslots := (*atomic.Uint64)(unsafe.Pointer(&mem[8]))
	nslots.CompareAndSwap(0, uint64(slots))
	magic.CompareAndSwap(0, futexMagic)
	if magic.Load() != futexMagic || nslots.Load() != uint64(slots) {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("bench: futex-fifo: %s was made for %d slots, not %d", path, nslots.Load(), slots)
	}
	return &futexLock{
		mem:     mem,
		slots:   uint64(slots),
		next:    (*atomic.Uint64)(unsafe.Pointer(&mem[16])),
		serving: (*atomic.Uint64)(unsafe.Pointer(&mem[24])),
	}, nil
}

// Close unmaps every name's file. Lockers must not be used afterwards.
func (c *futexClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, fl := range c.names {
		errs = append(errs, unix.Munmap(fl.mem))
	}
	c.names = nil
	return errors.Join(errs...)
}

type futexLocker struct {
	l      *futexLock
	ticket uint64 // the held ticket, valid while held
	held   bool
}

// Lock takes a ticket and sleeps on its slot until the releaser grants it. When ctx ends first,
// the ticket is abandoned (CAS waiting → abandoned) and the releaser will skip it; if the grant
// won that race the lock is held and is passed on at once, so a timed-out Lock never holds.
func (x *futexLocker) Lock(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("bench: futex-fifo lock: %w", err)
	}
	if x.held {
		return 0, fmt.Errorf("bench: futex-fifo lock: already held by this locker")
	}
	l := x.l
	// Tickets in flight must fit the slots (see futexBackend); refuse rather than share a slot,
	// which would hang a waiter. Racy by design: it catches a MaxWorkers set too low, not a
	// legitimate load, which stays under slots/2.
	serving := l.serving.Load() // first: next only grows and never trails serving, so no underflow
	if inFlight := l.next.Load() - serving; inFlight >= l.slots-1 {
		return 0, fmt.Errorf("bench: futex-fifo lock: %d tickets in flight for %d slots: %w", inFlight, l.slots, errFutexSlots)
	}
	t := l.next.Add(1) - 1
	st := l.state(t)
	// Announce the wait, unless the releaser got here first and pre-granted the ticket.
	for {
		old := st.Load()
		if old == t<<2|phaseGranted {
			return x.acquired(t), nil
		}
		if st.CompareAndSwap(old, t<<2|phaseWaiting) {
			break
		}
	}
	if l.serving.Load() == t {
		// Our turn already (the lock was free, or the releaser found no ticket t yet): grant
		// ourselves. A failing CAS means the releaser granted it meanwhile.
		st.CompareAndSwap(t<<2|phaseWaiting, t<<2|phaseGranted)
		return x.acquired(t), nil
	}
	deadline, hasDeadline := ctx.Deadline()
	done := ctx.Done()
	seq := l.seq(t)
	for {
		v := seq.Load() // read before the check, so a grant after it changes the word: no lost wake
		if st.Load() == t<<2|phaseGranted {
			return x.acquired(t), nil
		}
		var ts *unix.Timespec
		if hasDeadline {
			d := time.Until(deadline)
			if d <= 0 {
				return x.abandon(t, context.DeadlineExceeded)
			}
			spec := unix.NsecToTimespec(int64(d))
			ts = &spec
		} else if done != nil {
			// A cancel-only ctx cannot interrupt the futex; wake up now and then to look at it.
			spec := unix.NsecToTimespec(int64(100 * time.Millisecond))
			ts = &spec
		}
		futexWait(seq, v, ts)
		if done != nil {
			select {
			case <-done:
				return x.abandon(t, ctx.Err())
			default:
			}
		}
	}
}

func (x *futexLocker) acquired(t uint64) uint64 {
	x.ticket = t
	x.held = true
	return t + 1
}

// abandon gives up ticket t. If the releaser granted it first, the lock is ours: pass it on.
func (x *futexLocker) abandon(t uint64, cause error) (uint64, error) {
	st := x.l.state(t)
	if !st.CompareAndSwap(t<<2|phaseWaiting, t<<2|phaseAbandoned) {
		x.l.release(t)
	}
	return 0, fmt.Errorf("bench: futex-fifo lock: %w", cause)
}

// TryLock takes a ticket only when it would be served at once: a CAS of next from serving.
func (x *futexLocker) TryLock(context.Context) (bool, uint64, error) {
	if x.held {
		return false, 0, fmt.Errorf("bench: futex-fifo trylock: already held by this locker")
	}
	l := x.l
	s := l.serving.Load()
	if !l.next.CompareAndSwap(s, s+1) {
		return false, 0, nil
	}
	// Ticket s is ours and being served; mark it granted so a releaser does not wait on it.
	st := l.state(s)
	for {
		old := st.Load()
		if old == s<<2|phaseGranted || st.CompareAndSwap(old, s<<2|phaseGranted) {
			break
		}
	}
	return true, x.acquired(s), nil
}

func (x *futexLocker) Unlock(context.Context) error {
	if !x.held {
		return ErrNotHeld
	}
	x.held = false
	x.l.release(x.ticket)
	return nil
}

// release passes the lock from ticket t to the next live ticket, waking exactly its slot.
func (l *futexLock) release(t uint64) {
	for n := t + 1; ; n++ {
		l.serving.Store(n)
		if l.next.Load() <= n {
			return // ticket n not issued yet: its taker will see serving == n and grant itself
		}
		st := l.state(n)
		for {
			old := st.Load()
			switch old {
			case n<<2 | phaseAbandoned:
				goto skip // its waiter left; pass over it
			case n<<2 | phaseGranted:
				return // its taker granted itself
			}
			// Waiting, or not yet announced (the slot still holds an older ticket's state):
			// grant it; the taker's announce CAS will then see the grant.
			if st.CompareAndSwap(old, n<<2|phaseGranted) {
				seq := l.seq(n)
				seq.Add(1)
				futexWake(seq)
				return
			}
		}
	skip:
	}
}

// futexWait sleeps while *addr == val, at most ts (nil: no limit). Spurious and early returns are
// fine: callers re-check. Not FUTEX_PRIVATE: the word is shared between processes.
func futexWait(addr *atomic.Uint32, val uint32, ts *unix.Timespec) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexOpWait,
		uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
}

// futexWake wakes the waiters on addr; with slots ≥ tickets in flight that is at most one.
func futexWake(addr *atomic.Uint32) {
	_, _, _ = unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexOpWake,
		uintptr(1<<30), 0, 0, 0)
}
