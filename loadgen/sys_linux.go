package loadgen

import (
	"fmt"
	"math"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctlReadTermios is the ioctl isTerminal probes a descriptor with.
const ioctlReadTermios = unix.TCGETS

// workerAttr puts a worker in the cell's process group (one kill reaches them all); Pdeathsig
// covers a coordinator that dies without cleaning up.
func workerAttr(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid, Pdeathsig: syscall.SIGKILL}
}

// futex(2) operations from linux/futex.h, without FUTEX_PRIVATE_FLAG: the word is shared
// between processes.
const (
	futexWait = 0
	futexWake = 1
)

// wakeAll wakes every process sleeping in waitWhile on word, with one futex call.
func wakeAll(word *uint32) error {
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWake,
		uintptr(math.MaxInt32), 0, 0, 0)
	if errno != 0 {
		return fmt.Errorf("%w: futex wake: %w", ErrShm, errno)
	}
	return nil
}

// waitWhile sleeps while *word == val, until a wakeAll. Early returns are fine: callers re-check.
func waitWhile(word *uint32, val uint32) error {
	if atomic.LoadUint32(word) != val {
		return nil
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWait,
		uintptr(val), 0, 0, 0)
	switch errno {
	case 0, unix.EAGAIN, unix.EINTR, unix.ETIMEDOUT:
		return nil
	}
	return fmt.Errorf("%w: futex wait: %w", ErrShm, errno)
}
