package server

import "golang.org/x/sys/unix"

// probeSocket opens the TCP socket probeBind binds, close-on-exec from birth.
func probeSocket(family int) (int, error) {
	return unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
}
