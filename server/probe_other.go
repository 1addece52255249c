//go:build unix && !linux

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// probeSocket opens the TCP socket probeBind binds. macOS has no SOCK_CLOEXEC: ForkLock keeps a
// concurrent exec from inheriting the descriptor between socket(2) and FD_CLOEXEC, as Go's own
// net package does.
func probeSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}
