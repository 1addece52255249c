package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// lookCommand resolves CMD as a shell would, and fails with the shell's statuses: 127 when it
// is not found, 126 when it is found but cannot be run.
func lookCommand(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	return "", commandError(name, err)
}

// commandError maps a failure to find or start CMD to 127 (not found) or 126 (cannot run).
func commandError(name string, err error) error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return exitWith(exitNotFound, fmt.Errorf("%s: command not found", name))
	}
	var errno syscall.Errno
	if errors.Is(err, fs.ErrPermission) || (errors.As(err, &errno) && (errno == syscall.ENOEXEC || errno == syscall.EISDIR)) {
		return exitWith(exitNoExec, fmt.Errorf("%s: cannot run it (not an executable file)", name))
	}
	return exitWith(exitNoExec, fmt.Errorf("%s: cannot run it: %w", name, err))
}

// runChild runs CMD while m is held and returns its exit status, or 76 if the lock was lost.
func (o *lockOptions) runChild(path string, m heldLock, sigs <-chan os.Signal) error {
	child := exec.Command(path, o.argv[1:]...)
	child.Args[0] = o.argv[0]
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	child.Env = append(os.Environ(),
		"WWLY_LOCK_NAME="+o.name,
		"WWLY_LOCK_TOKEN="+strconv.FormatUint(m.Token(), 10))
	tty, interactive := foregroundTTY()
	child.SysProcAttr = childAttr(interactive, tty)
	if interactive {
		// Whatever happens next, the terminal comes back to our group when CMD is done.
		defer takeTerminal(tty)
	}
	if err := startPinned(child); err != nil {
		m.Unlock()
		return commandError(o.argv[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- child.Wait() }()
	pgid := child.Process.Pid

	lost := m.Lost()
	var werr error
	wasLost := false
loop:
	for {
		select {
		case werr = <-waited:
			break loop
		case s := <-sigs:
			_ = syscall.Kill(-pgid, s.(syscall.Signal))
		case <-lost:
			wasLost = true
			fmt.Fprintf(o.stderr, "wwly: lock %s lost while the command ran; terminating it\n", displayName(o.name))
			werr = terminateGroup(pgid, waited, o.killWait)
			break loop
		}
	}
	if !wasLost {
		select {
		case <-m.Lost():
			wasLost = true // lost just as the command finished: its critical section was not safe
		default:
		}
	}
	if wasLost {
		m.Unlock()
		return exitWith(exitLost, fmt.Errorf("lock %s lost while the command ran", displayName(o.name)))
	}
	uctx, ucancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = m.UnlockContext(uctx) // the lock goes with the connection anyway
	ucancel()
	return childExit(werr)
}

// foregroundTTY reports whether stdin is a terminal whose foreground process group is ours (so
// wwly lock runs in the foreground of an interactive shell), and its descriptor. In the
// background, or without a terminal, CMD is left out of the terminal's business.
func foregroundTTY() (int, bool) {
	fd := int(os.Stdin.Fd())
	pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return -1, false
	}
	return fd, pgrp == unix.Getpgrp()
}

// takeTerminal makes our process group the terminal's foreground group again. We are in the
// background while CMD has the terminal, and a background tcsetpgrp raises SIGTTOU, which would
// stop us: it is ignored for the call, as shells do.
func takeTerminal(fd int) {
	wasIgnored := signal.Ignored(syscall.SIGTTOU)
	signal.Ignore(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpgrp())
	if !wasIgnored {
		signal.Reset(syscall.SIGTTOU)
	}
}

// startPinned starts cmd from a goroutine locked to its OS thread: Pdeathsig fires when the
// thread that forked the child exits, not the process, and Go may retire threads. Unlocking
// afterwards returns the thread to the runtime's pool, which keeps it alive.
func startPinned(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Start()
}

// terminateGroup sends SIGTERM to the process group, then SIGKILL after grace, and returns the
// leader's wait error.
func terminateGroup(pgid int, waited <-chan error, grace time.Duration) error {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-waited:
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers of the group
		return err
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return <-waited
	}
}

// childExit turns the command's wait error into our exit status.
func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitWith(exitSignal+int(ws.Signal()), nil)
		}
		return exitWith(ee.ExitCode(), nil)
	}
	return exitWith(exitInternal, fmt.Errorf("wait for the command: %w", err))
}
