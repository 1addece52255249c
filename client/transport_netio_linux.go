//go:build linux

package client

import (
	"io"
	"syscall"
	"unsafe"
)

// On Linux netTransport reads and writes with raw syscalls on the non-blocking socket, inside its
// RawConn callbacks, so the netpoller still parks the goroutine when there is nothing to read or
// no room to write. A plain net.Conn call enters the runtime's syscall bookkeeping
// (entersyscall), and that wakes the runtime's sysmon thread whenever it sleeps: with one
// process per worker that was two to three extra thread wake-ups (futex, nanosleep, context
// switches) on every handoff, because each handoff wakes a process that has been idle
// (docs/performance.md). A non-blocking read or write cannot block, which is what RawSyscall
// requires.

func (t netTransport) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := t.rc.Read(func(fd uintptr) bool {
		n, errno = rawIO(syscall.SYS_READ, fd, p)
		return errno != syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, err // closed, or the poller failed
	case errno != 0:
		return 0, &netError{op: "read", err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (t netTransport) Write(p []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := t.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			n, e := rawIO(syscall.SYS_WRITE, fd, p[done:])
			if e == syscall.EAGAIN {
				return false // the poller waits for room, then calls again
			}
			if e != 0 {
				errno = e
				return true
			}
			done += n
		}
		return true
	})
	switch {
	case err != nil:
		return done, err
	case errno != 0:
		return done, &netError{op: "write", err: errno}
	}
	return done, nil
}

// rawIO is one read(2) or write(2) of p on fd, retried on EINTR.
func rawIO(trap, fd uintptr, p []byte) (int, syscall.Errno) {
	for {
		n, _, e := syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(n), 0
	}
}

// netError names the failed call, as net.OpError would.
type netError struct {
	op  string
	err error
}

func (e *netError) Error() string { return "wwly: socket " + e.op + ": " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }
