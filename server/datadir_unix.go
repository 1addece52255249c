//go:build unix

package server

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// flockTry takes an exclusive flock(2) on f without waiting; errLocked when another holds it.
func flockTry(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return fmt.Errorf("%w: %w", errLocked, err)
	}
	return err
}

// flockRelease drops flockTry's lock.
func flockRelease(f *os.File) { _ = unix.Flock(int(f.Fd()), unix.LOCK_UN) }
