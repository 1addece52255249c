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

// netIO holds one reusable read and one reusable write operation, so that passing a callback to
// the RawConn allocates nothing per call (a closure over Read's locals would escape, 3–4
// allocations a cycle). Read is called by one goroutine at a time and Write under the Client's
// write mutex, so each operation has one user at a time.
type netIO struct{ rd, wr *rawOp }

func newNetIO() netIO {
	rd, wr := &rawOp{}, &rawOp{}
	rd.fn, wr.fn = rd.read, wr.write
	return netIO{rd: rd, wr: wr}
}

// rawOp is one read or write in progress: its buffer, its outcome, and the callback (a method
// value bound once) that the RawConn calls with the descriptor.
type rawOp struct {
	p     []byte
	n     int
	errno syscall.Errno
	fn    func(fd uintptr) bool
}

// read reads once; false (EAGAIN) asks the poller to wait for data and call again.
func (o *rawOp) read(fd uintptr) bool {
	o.n, o.errno = rawIO(syscall.SYS_READ, fd, o.p)
	return o.errno != syscall.EAGAIN
}

// write writes until p is out or the socket is full; false (full) asks the poller to wait for
// room and call again, resuming at o.n.
func (o *rawOp) write(fd uintptr) bool {
	for o.n < len(o.p) {
		n, e := rawIO(syscall.SYS_WRITE, fd, o.p[o.n:])
		if e == syscall.EAGAIN {
			return false
		}
		if e != 0 {
			o.errno = e
			return true
		}
		o.n += n
	}
	return true
}

func (t netTransport) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	o := t.io.rd
	o.p, o.n, o.errno = p, 0, 0
	err := t.rc.Read(o.fn)
	n, errno := o.n, o.errno
	o.p = nil // do not keep the caller's buffer
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
	o := t.io.wr
	o.p, o.n, o.errno = p, 0, 0
	err := t.rc.Write(o.fn)
	n, errno := o.n, o.errno
	o.p = nil
	switch {
	case err != nil:
		return n, err
	case errno != 0:
		return n, &netError{op: "write", err: errno}
	}
	return n, nil
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
