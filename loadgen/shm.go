package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrShm marks a shared-memory file that cannot be created, opened or trusted.
var ErrShm = errors.New("loadgen: shared memory")

// The exclusion checker lives in one file that the coordinator creates and every worker maps.
// Layout (little endian, every slot on its own cache line so names do not false-share):
//
//	header (64 B): magic u64, slots u64, witness violations i64, token violations i64,
//	               start instant i64 (ns since the epoch), barrier word u32 (futex), pad,
//	               window end i64 at 48 (ns since the epoch; 0 until the coordinator ends it early)
//	slot i (64 B): occupancy i32, pad, balance i64, last token u64
const (
	shmMagic      = 0x77776c79_73686d31 // "wwlyshm1"
	shmHeaderSize = 64
	shmSlotSize   = 64
)

// Witness is the mutual-exclusion checker over a shared mmap'd file, one slot per lock name.
// Its methods are safe for concurrent use by any number of goroutines and processes (that is
// the point), except that BalanceAdd is deliberately not atomic: it is the lost-update probe and
// is only correct when the caller really holds the lock.
type Witness struct {
	mem   []byte
	slots int
}

// CreateWitness makes a zeroed checker file at path with slots slots and maps it.
func CreateWitness(path string, slots int) (*Witness, error) {
	if slots <= 0 {
		return nil, fmt.Errorf("%w: %d slots", ErrShm, slots)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: create: %w", ErrShm, err)
	}
	defer f.Close()
	size := shmHeaderSize + slots*shmSlotSize
	if err := f.Truncate(int64(size)); err != nil {
		return nil, fmt.Errorf("%w: size %s: %w", ErrShm, path, err)
	}
	w, err := mapWitness(f, size)
	if err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint64(w.mem[8:], uint64(slots))
	atomic.StoreUint64((*uint64)(unsafe.Pointer(&w.mem[0])), shmMagic)
	w.slots = slots
	return w, nil
}

// OpenWitness maps an existing checker file made by CreateWitness.
func OpenWitness(path string) (*Witness, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: open: %w", ErrShm, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: stat: %w", ErrShm, err)
	}
	if st.Size() < shmHeaderSize+shmSlotSize {
		return nil, fmt.Errorf("%w: %s: %d bytes is too small", ErrShm, path, st.Size())
	}
	w, err := mapWitness(f, int(st.Size()))
	if err != nil {
		return nil, err
	}
	magic := atomic.LoadUint64((*uint64)(unsafe.Pointer(&w.mem[0])))
	slots := binary.LittleEndian.Uint64(w.mem[8:])
	if magic != shmMagic || slots == 0 || shmHeaderSize+slots*shmSlotSize > uint64(len(w.mem)) {
		_ = w.Close()
		return nil, fmt.Errorf("%w: %s: bad header (magic %#x, %d slots)", ErrShm, path, magic, slots)
	}
	w.slots = int(slots)
	return w, nil
}

func mapWitness(f *os.File, size int) (*Witness, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%w: mmap %s: %w", ErrShm, f.Name(), err)
	}
	return &Witness{mem: mem}, nil
}

// Close unmaps the file. The Witness must not be used afterwards.
func (w *Witness) Close() error {
	if w.mem == nil {
		return nil
	}
	err := unix.Munmap(w.mem)
	w.mem = nil
	return err
}

// Slots is the number of lock names the file covers.
func (w *Witness) Slots() int { return w.slots }

func (w *Witness) slot(i int) unsafe.Pointer {
	return unsafe.Pointer(&w.mem[shmHeaderSize+i*shmSlotSize])
}

func (w *Witness) occupancy(i int) *int32 { return (*int32)(w.slot(i)) }
func (w *Witness) balance(i int) *int64   { return (*int64)(unsafe.Add(w.slot(i), 8)) }
func (w *Witness) lastTok(i int) *uint64  { return (*uint64)(unsafe.Add(w.slot(i), 16)) }
func (w *Witness) witnessViol() *int64    { return (*int64)(unsafe.Pointer(&w.mem[16])) }
func (w *Witness) tokenViol() *int64      { return (*int64)(unsafe.Pointer(&w.mem[24])) }
func (w *Witness) startNs() *int64        { return (*int64)(unsafe.Pointer(&w.mem[32])) }
func (w *Witness) barrier() *uint32       { return (*uint32)(unsafe.Pointer(&w.mem[40])) }
func (w *Witness) endNs() *int64          { return (*int64)(unsafe.Pointer(&w.mem[48])) }

// EndWindow publishes an early end of the measured window (an ops-sized window reached its
// target): workers stop recording ops acquired at or after end and leave their loop. Workers
// blocked in Lock learn it when they get the lock, which the others' leaving makes quick.
func (w *Witness) EndWindow(end time.Time) { atomic.StoreInt64(w.endNs(), end.UnixNano()) }

// WindowEnd is the early end published by EndWindow, in ns since the epoch; 0 when none. One
// atomic load: cheap enough to read once per op.
func (w *Witness) WindowEnd() int64 { return atomic.LoadInt64(w.endNs()) }

// Release opens the start barrier for every process waiting in WaitStart: it publishes the
// start instant and wakes all waiters with one futex call, so releasing thousands of workers
// costs the coordinator one syscall instead of one write (and one preemption) per worker.
func (w *Witness) Release(start time.Time) error {
	atomic.StoreInt64(w.startNs(), start.UnixNano())
	atomic.StoreUint32(w.barrier(), 1)
	return wakeAll(w.barrier())
}

// WaitStart blocks until Release or ctx's end and returns the start instant. It sleeps in
// futex(2) with no timeout: Release and the end of ctx both wake the word, so a waiting worker
// never wakes on a timer (thousands of idle workers waking to poll would eat the CPU the ones
// still starting need).
func (w *Witness) WaitStart(ctx context.Context) (time.Time, error) {
	word := w.barrier()
	woken := make(chan struct{})
	var left atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		defer close(woken)
		// Wakes every waiter on the word, in every process; they re-check and sleep again. With
		// no timeout on the wait, a wake that lands between the waiter's ctx check and its
		// futex call would be lost, so keep waking until the waiter has left (bounded).
		for i := 0; i < 1000 && !left.Load(); i++ {
			_ = wakeAll(word)
			time.Sleep(time.Millisecond)
		}
	})
	defer func() {
		left.Store(true)
		if !stop() {
			<-woken // it ran or is running: the mapping must outlive it (Close unmaps)
		}
	}()
	for {
		if atomic.LoadUint32(w.barrier()) != 0 {
			return time.Unix(0, atomic.LoadInt64(w.startNs())), nil
		}
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		if err := waitWhile(word, 0); err != nil {
			return time.Time{}, err
		}
	}
}

// Enter marks the caller as inside the critical section of name slot i. It returns false — and
// counts a witness violation — when someone else is inside too.
func (w *Witness) Enter(i int) bool {
	if atomic.AddInt32(w.occupancy(i), 1) != 1 {
		atomic.AddInt64(w.witnessViol(), 1)
		return false
	}
	return true
}

// Leave undoes Enter; call it before releasing the lock.
func (w *Witness) Leave(i int) { atomic.AddInt32(w.occupancy(i), -1) }

// CheckToken records a fencing token seen inside the critical section of slot i. It returns
// false — and counts a token violation — when the token does not exceed the last one seen for
// that name. Call it only while holding the lock: the compare and the store are two steps.
func (w *Witness) CheckToken(i int, token uint64) bool {
	p := w.lastTok(i)
	last := atomic.LoadUint64(p)
	atomic.StoreUint64(p, token)
	if token <= last {
		atomic.AddInt64(w.tokenViol(), 1)
		return false
	}
	return true
}

// BalanceRead is the read half of the lost-update probe: a plain, non-atomic load.
func (w *Witness) BalanceRead(i int) int64 { return *w.balance(i) }

// BalanceWrite is the write half of the lost-update probe: a plain, non-atomic store. If two
// holders overlap between BalanceRead and BalanceWrite, one increment is lost and the sum of
// balances falls short of the number of critical sections.
func (w *Witness) BalanceWrite(i int, v int64) { *w.balance(i) = v }

// Report is what the checker file says after a run.
type Report struct {
	Witness int64 // times Enter found someone inside
	Token   int64 // tokens that did not rise
	Balance int64 // sum of all slots' balances
}

// Report reads the counters. Call it after every worker stopped.
func (w *Witness) Report() Report {
	r := Report{
		Witness: atomic.LoadInt64(w.witnessViol()),
		Token:   atomic.LoadInt64(w.tokenViol()),
	}
	for i := range w.slots {
		r.Balance += atomic.LoadInt64(w.balance(i))
	}
	return r
}

// LostUpdates is how many critical sections the balance misses given ops entered in total.
func (r Report) LostUpdates(ops int64) int64 {
	if d := ops - r.Balance; d > 0 {
		return d
	}
	return 0
}

// Violations sums every kind of violation given ops critical sections entered in total. A
// balance above ops (impossible unless memory is corrupted) counts too.
func (r Report) Violations(ops int64) int64 {
	d := ops - r.Balance
	if d < 0 {
		d = -d
	}
	return r.Witness + r.Token + d
}
