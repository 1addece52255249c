package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// envDir is the Env key holding the shared directory of the file-based backends.
const envDir = "dir"

// flockBackend is flock(2) with LOCK_EX on one lock file per name: the kernel's own lock, no
// server. Each Locker opens its own fd, so workers (and Lockers) contend as separate owners.
// flock is not FIFO: a releaser that asks again usually wins (barging), which is its speed and
// its unfairness.
type flockBackend struct{}

func (flockBackend) Name() string    { return "flock" }
func (flockBackend) Exclusive() bool { return true }
func (flockBackend) Tokens() bool    { return false }

func (flockBackend) Start(_ context.Context, opts StartOptions) (Instance, error) {
	dir, err := lockDir(opts.Dir, "flock")
	if err != nil {
		return nil, err
	}
	return &procInstance{env: Env{envDir: dir}}, nil
}

// lockDir makes opts.Dir/sub for a file-based backend's per-name files.
func lockDir(base, sub string) (string, error) {
	if base == "" {
		return "", fmt.Errorf("bench: %s: StartOptions.Dir is empty", sub)
	}
	dir := filepath.Join(base, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench: %s: %w", sub, err)
	}
	return dir, nil
}

// nameFile maps a lock name to a file name that is safe whatever bytes the name holds.
func nameFile(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	return prefix + hex.EncodeToString(sum[:16])
}

func (flockBackend) Connect(_ context.Context, env Env) (Client, error) {
	dir := env[envDir]
	if dir == "" {
		return nil, fmt.Errorf("bench: flock: env has no %q", envDir)
	}
	return &flockClient{dir: dir}, nil
}

// flockClient is goroutine-safe; each Locker is for one goroutine at a time.
type flockClient struct {
	dir string

	mu      sync.Mutex
	lockers []*flockLocker // mu guards; closed by Close
}

func (c *flockClient) Locker(name string) (Locker, error) {
	return c.open(name)
}

// open gives name's lock file an fd of its own (a separate flock owner), closed by Close.
func (c *flockClient) open(name string) (*flockLocker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: flock: empty lock name")
	}
	path := filepath.Join(c.dir, nameFile("flock-", name))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bench: flock: %w", err)
	}
	l := &flockLocker{f: f, fd: int(f.Fd())}
	c.mu.Lock()
	c.lockers = append(c.lockers, l)
	c.mu.Unlock()
	return l, nil
}

// Close closes every Locker's fd, which releases any lock still held.
func (c *flockClient) Close() error {
	c.mu.Lock()
	ls := c.lockers
	c.lockers = nil
	c.mu.Unlock()
	var errs []error
	for _, l := range ls {
		l.waitPending()
		errs = append(errs, l.f.Close())
	}
	return errors.Join(errs...)
}

// flockLocker holds one fd on the name's lock file.
type flockLocker struct {
	f    *os.File // kept so the fd stays open as long as the Locker
	fd   int
	held bool
	// pending is non-nil while an abandoned blocking flock (see Lock) may still acquire on this fd;
	// it is closed once that attempt has finished and released what it got.
	pending chan struct{}
}

// flockBlockingMin: a Lock whose ctx deadline is at least this far away blocks in the kernel on
// the calling goroutine (see Lock).
const flockBlockingMin = time.Second

// Lock takes the lock with a blocking flock(LOCK_EX). Never a polling loop: a waiter sleeps in the
// kernel until the lock is free.
//
// The ctx limitation: a blocking flock(2) cannot be interrupted from Go (the runtime's signal
// handlers use SA_RESTART, and flock restarts after them; closing the fd does not wake it). So:
//   - with no deadline, or a deadline at least flockBlockingMin away (the harness's hot path: its
//     deadline is the end of the measured window), it is one plain blocking call on the calling
//     goroutine. If ctx ended meanwhile, the lock is released again and ctx's error returned: the
//     result is right but late by up to the holder's hold time, and a cancel does not wake it;
//   - with a nearer deadline, it first tries LOCK_NB, then runs the blocking call in a helper
//     goroutine and returns ctx's error on time; the helper, when it finally gets the lock,
//     releases it at once, and the next Lock or Close of this Locker waits for the helper first.
func (l *flockLocker) Lock(ctx context.Context) (uint64, error) {
	l.waitPending()
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("bench: flock lock: %w", err)
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) >= flockBlockingMin {
		if err := flockRetry(l.fd, unix.LOCK_EX); err != nil {
			return 0, fmt.Errorf("bench: flock lock: %w", err)
		}
		if err := ctx.Err(); err != nil {
			_ = flockRetry(l.fd, unix.LOCK_UN)
			return 0, fmt.Errorf("bench: flock lock: %w", err)
		}
		l.held = true
		return 0, nil
	}
	if ok, err := l.tryLock(); err != nil || ok {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- flockRetry(l.fd, unix.LOCK_EX) }()
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("bench: flock lock: %w", err)
		}
		l.held = true
		return 0, nil
	case <-ctx.Done():
		pending := make(chan struct{})
		l.pending = pending
		go func() {
			defer close(pending)
			if err := <-done; err == nil {
				_ = flockRetry(l.fd, unix.LOCK_UN)
			}
		}()
		return 0, fmt.Errorf("bench: flock lock: %w", ctx.Err())
	}
}

// waitPending waits for an abandoned blocking flock to finish (it releases what it took).
func (l *flockLocker) waitPending() {
	if l.pending != nil {
		<-l.pending
		l.pending = nil
	}
}

func (l *flockLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	if l.pending != nil {
		select {
		case <-l.pending:
			l.pending = nil
		default:
			return false, 0, nil // our own abandoned waiter is still queued: the lock is held elsewhere
		}
	}
	ok, err := l.tryLock()
	return ok, 0, err
}

func (l *flockLocker) tryLock() (bool, error) {
	err := flockRetry(l.fd, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bench: flock trylock: %w", err)
	}
	l.held = true
	return true, nil
}

func (l *flockLocker) Unlock(context.Context) error {
	if !l.held {
		return ErrNotHeld
	}
	l.held = false
	if err := flockRetry(l.fd, unix.LOCK_UN); err != nil {
		return fmt.Errorf("bench: flock unlock: %w", err)
	}
	return nil
}

// flockRetry is flock(2) restarted after EINTR (Go's signal handlers use SA_RESTART, but a
// blocking flock may still see EINTR on some kernels).
func flockRetry(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
