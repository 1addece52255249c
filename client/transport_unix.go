//go:build unix

package client

import (
	"errors"
	"net"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// blockingTransport is an fdTransport on a blocking duplicate of tc's descriptor; the caller
// closes tc.
func blockingTransport(tc *net.TCPConn) (transport, error) {
	fd, err := blockingDup(tc)
	if err != nil {
		return nil, err
	}
	return &fdTransport{fd: fd}, nil
}

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
