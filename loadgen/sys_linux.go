package loadgen

import (
	"fmt"
	"math"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wwly/wwly/internal/futex"
)

// ioctlReadTermios is the ioctl isTerminal probes a descriptor with.
const ioctlReadTermios = unix.TCGETS

// workerAttr puts a worker in the cell's process group (one kill reaches them all); Pdeathsig
// covers a coordinator that dies without cleaning up.
func workerAttr(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid, Pdeathsig: syscall.SIGKILL}
}

// wakeAll wakes every process sleeping in waitWhile on word, with one futex call.
func wakeAll(word *uint32) error {
	if errno := futex.Wake(sharedWord(word), math.MaxInt32); errno != 0 {
		return fmt.Errorf("%w: futex wake: %w", ErrShm, errno)
	}
	return nil
}

// waitWhile sleeps while *word == val, until a wakeAll. Early returns are fine: callers re-check.
func waitWhile(word *uint32, val uint32) error {
	if atomic.LoadUint32(word) != val {
		return nil
	}
	if errno := futex.Wait(sharedWord(word), val, nil); !futex.Normal(errno) {
		return fmt.Errorf("%w: futex wait: %w", ErrShm, errno)
	}
	return nil
}

// sharedWord views a 4-byte word of a shared mapping as the atomic the futex package takes.
func sharedWord(word *uint32) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(word)) }
