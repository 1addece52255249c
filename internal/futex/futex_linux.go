package futex

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futex(2) operations (linux/futex.h).
const (
	opWait = 0
	opWake = 1
)

// Wait sleeps while *addr == val, at most ts (nil: no limit), through the runtime's syscall
// bookkeeping, so the Go scheduler may run other goroutines meanwhile. It returns 0 or the errno;
// EAGAIN (the word had changed), EINTR and ETIMEDOUT are normal early returns, and callers
// re-check the word in any case.
func Wait(addr *atomic.Uint32, val uint32, ts *unix.Timespec) syscall.Errno {
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait,
		uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
	return errno
}

// WaitRaw is Wait without telling the scheduler: the thread blocks holding its P. A signal may
// end it early with EINTR (a wait with a timeout is not restarted), as Wait may.
func WaitRaw(addr *atomic.Uint32, val uint32, ts *unix.Timespec) syscall.Errno {
	_, _, errno := unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWait,
		uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
	return errno
}

// Wake wakes up to n waiters on addr. It never blocks, so it is a raw call: no scheduler
// bookkeeping around a few microseconds.
func Wake(addr *atomic.Uint32, n int) syscall.Errno {
	_, _, errno := unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), opWake,
		uintptr(n), 0, 0, 0)
	return errno
}

// Normal reports whether a Wait's errno is one of its ordinary early returns (or none).
func Normal(errno syscall.Errno) bool {
	return errno == 0 || errno == unix.EAGAIN || errno == unix.EINTR || errno == unix.ETIMEDOUT
}
