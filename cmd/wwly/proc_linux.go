package main

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr puts CMD in its own process group (so loss of the lock can end all of it), in the
// terminal's foreground when interactive (tty is then the parent's terminal descriptor), and
// has the kernel kill it if wwly lock dies first.
func childAttr(interactive bool, tty int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Foreground: interactive, Ctty: tty, Pdeathsig: syscall.SIGKILL}
}

// ioctlReadTermios reads a terminal's attributes (isatty).
const ioctlReadTermios = unix.TCGETS
