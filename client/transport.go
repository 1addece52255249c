package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// IOMode selects how a Client's connection reads and writes.
type IOMode uint8

const (
	// IONetConn uses a plain net.Conn: the reader goroutine parks in Go's netpoller.
	IONetConn IOMode = iota + 1
	// IOBlockingFD puts the socket in blocking mode and has a reader goroutine, locked to its OS
	// thread, sit in read(2); writes are plain write(2) calls. PERFORMANCE.md measured a waiter
	// parked in the netpoller at about a third of the throughput of one blocked in a read syscall,
	// so this was tried; in this client it measured slower (p50 cycle ~90 µs against ~22 µs, and
	// fewer cycles/s with 1 to 32 contending processes): the reader thread blocked in a syscall
	// keeps its P, so the woken Lock caller waits for another M to steal it. Kept for comparison
	// (BenchmarkCycle, e2e TestContention). Linux and other unix systems only.
	IOBlockingFD
)

func (m IOMode) String() string {
	switch m {
	case IONetConn:
		return "netconn"
	case IOBlockingFD:
		return "blockingfd"
	}
	return fmt.Sprintf("IOMode(%d)", uint8(m))
}

// transport is the byte stream under a Client. Read is called by the reader goroutine only;
// Write by one writer at a time (the Client's write mutex); Close may be called at any time,
// from any goroutine, and must make a blocked Read return.
type transport interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Close() error
	// readerStart runs at the top of the reader goroutine (thread pinning), readerDone at its end.
	readerStart()
	readerDone()
}

func dialTransport(ctx context.Context, addr string, mode IOMode) (transport, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := conn.(*net.TCPConn)
	_ = tc.SetNoDelay(true) // already Go's default; said here because the protocol depends on it
	if mode != IOBlockingFD {
		return netTransport{tc}, nil
	}
	fd, err := blockingDup(tc)
	conn.Close() // the dup keeps the socket open; the netpoller lets go of the original fd
	if err != nil {
		return nil, fmt.Errorf("blocking socket: %w", err)
	}
	return &fdTransport{fd: fd}, nil
}

type netTransport struct{ *net.TCPConn }

func (netTransport) readerStart() {}
func (netTransport) readerDone()  {}

// blockingDup duplicates the connection's descriptor and puts it in blocking mode. O_NONBLOCK
// belongs to the open file description shared by both descriptors, which is fine: the caller
// closes the net.Conn (Go removes it from epoll before closing) right after.
func blockingDup(tc *net.TCPConn) (int, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// fdTransport is a blocking socket descriptor. Close only shuts the socket down (which wakes a
// blocked read(2)); the descriptor itself is closed by the reader goroutine on its way out, once
// no write can be using it, so the number is never reused under a live read or write.
type fdTransport struct {
	fd       int
	mu       sync.Mutex // guards closed and the close of fd
	shut     bool
	released bool
}

func (t *fdTransport) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(t.fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, errEOF
		}
		return n, nil
	}
}

var errEOF = errors.New("connection closed by peer")

func (t *fdTransport) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(t.fd, p[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

func (t *fdTransport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shut || t.released {
		return nil
	}
	t.shut = true
	return unix.Shutdown(t.fd, unix.SHUT_RDWR)
}

func (t *fdTransport) readerStart() { runtime.LockOSThread() }

// readerDone closes the descriptor. The Client calls it after its reader has stopped and while
// holding its write mutex with the connection marked dead, so nobody else touches fd.
func (t *fdTransport) readerDone() {
	t.mu.Lock()
	if !t.released {
		t.released = true
		unix.Close(t.fd)
	}
	t.mu.Unlock()
	runtime.UnlockOSThread()
}
