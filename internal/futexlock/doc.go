// Package futexlock is a strict-FIFO ticket lock in a shared, mmap'd file, handing off with
// exactly one futex wake of the next ticket's slot: the physical limit of a fair handoff between
// processes on one Linux host, with no network at all.
//
// It is the one implementation behind both the harness's futex-fifo backend (bench) and the
// standalone yardstick cmd/futexfloor, so the two measure the same lock and their ratio is the
// harness's own overhead. Linux only; on other systems Map returns ErrUnsupported.
//
// Layout of a lock's file (all words naturally aligned, shared by every process mapping it):
//
//	header: magic, slots, next (tickets issued), serving (lowest ticket not yet passed)
//	slot[i], i < slots: state uint64 = ticket<<2 | phase, seq uint32 (futex word), pad
//
// Ticket t uses slot[t % slots]. A slot's state is changed only by CAS on ticket-tagged values,
// so the releaser and a waiter agree on exactly one outcome for a ticket: granted, or abandoned
// (its waiter gave up), which the releaser skips. slots ≥ 2 × the processes that may wait keeps
// the tickets in flight (at most one per waiter, plus rare abandoned ones) on distinct slots.
//
// Like any user-space ticket lock it is not robust: a process killed while it holds a ticket
// (held or waiting) stalls that lock for good.
package futexlock

import "errors"

// Wait says how a waiter sleeps in futex(2).
type Wait int

const (
	// WaitScheduled tells the Go scheduler the thread blocks (syscall.Syscall6): safe with any
	// number of goroutines waiting in one process. But each wait longer than a sysmon tick makes
	// sysmon hand the P to another thread and poll every 20 µs: half of a waiting worker's CPU,
	// and about 2.5× less W=64 throughput on a 2-vCPU box (docs/harness.md).
	WaitScheduled Wait = iota
	// WaitRaw waits in RawSyscall6: the goroutine keeps its P and sysmon backs off. Only for a
	// process with at most one goroutine waiting at a time (a benchmark worker): while it waits
	// its P runs nothing else, so other goroutines of the process — the holder among them — may
	// not run until the wait ends (with GOMAXPROCS waiters, never, up to their timeouts), and a
	// stop-the-world waits for the grant or the timeout.
	WaitRaw
)

// Errors, for errors.Is.
var (
	// ErrSlots: more tickets are in flight than the file has slots (it was made too small).
	ErrSlots = errors.New("futexlock: too many waiters for the slots")
	// ErrFile: the file cannot be opened, sized or mapped, or was made for another slot count.
	ErrFile = errors.New("futexlock: lock file")
	// ErrUnsupported: not Linux.
	ErrUnsupported = errors.New("futexlock: needs Linux futexes")
)
