package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// lockFile is the name of the file in Config.DataDir a running server holds an exclusive flock on.
const lockFile = "lock"

// ErrDataDirInUse is returned by Start when another running server holds the data dir: two
// servers sharing one epoch file would hand out the same fencing tokens.
var ErrDataDirInUse = errors.New("server: data dir in use by another running server")

// dirLock is an exclusive flock(2) on <data-dir>/lock, held while the server runs. The kernel
// drops it when the process dies, so a crash never leaves the dir locked.
type dirLock struct{ f *os.File }

// lockDataDir creates dir if needed and takes its lock without waiting.
func lockDataDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: create data dir: %w", ErrEpoch, err)
	}
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := flockTry(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("%w: %s is locked (by pid %s)", ErrDataDirInUse, dir, trimPID(holder))
		}
		return nil, fmt.Errorf("data dir: flock %s: %w", path, err)
	}
	// The pid is for people reading the file; the flock is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

func trimPID(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	if s == "" {
		return "unknown"
	}
	return s
}

// unlock releases the lock; safe on a nil lock.
func (l *dirLock) unlock() {
	if l == nil || l.f == nil {
		return
	}
	flockRelease(l.f)
	_ = l.f.Close()
	l.f = nil
}
