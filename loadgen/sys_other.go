//go:build unix && !linux

package loadgen

import (
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ioctlReadTermios is the ioctl isTerminal probes a descriptor with (BSD and macOS name).
const ioctlReadTermios = unix.TIOCGETA

// workerAttr puts a worker in the cell's process group (one kill reaches them all). Only Linux
// has Pdeathsig: elsewhere a coordinator killed with SIGKILL leaves its workers to finish their
// window and exit on their closed stdin.
func workerAttr(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
}

// barrierPoll is how long waitWhile sleeps without futex(2): short enough that a released worker
// starts within a fraction of a cell's warm-up, long enough that idle waiters cost little CPU.
const barrierPoll = 2 * time.Millisecond

// wakeAll is a no-op without futex(2): waiters poll the word.
func wakeAll(*uint32) error { return nil }

// waitWhile sleeps one poll interval while *word == val. Callers re-check.
func waitWhile(word *uint32, val uint32) error {
	if atomic.LoadUint32(word) == val {
		time.Sleep(barrierPoll)
	}
	return nil
}
