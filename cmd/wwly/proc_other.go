//go:build unix && !linux

package main

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// childAttr is childAttr of proc_linux.go without Pdeathsig, which only Linux has: on these
// systems CMD outlives a wwly lock that is SIGKILLed.
func childAttr(interactive bool, tty int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Foreground: interactive, Ctty: tty}
}

// ioctlReadTermios reads a terminal's attributes (isatty).
const ioctlReadTermios = unix.TIOCGETA
