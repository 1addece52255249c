package bench

import (
	"context"
	"fmt"

	"golang.org/x/sys/unix"
)

// flock serves the rw workload with flock(2)'s own shared and exclusive modes (`flock -s` and
// `flock -x`): the kernel's reader-writer lock, the yardstick for wwly's RWMutex.
func (flockBackend) Workloads() []string { return []string{WorkloadMutex, WorkloadRW} }

var _ RWLocker = (*flockClient)(nil)

// RWLock opens its own fd on the name's lock file (a separate owner, as each Locker is). Its
// blocking calls cannot be interrupted (see flockLocker.Lock): the harness's ctx ends only at the
// end of the window, when the holders leave, so a waiter returns soon after anyway.
func (c *flockClient) RWLock(name string) (RWLock, error) {
	l, err := c.open(name)
	if err != nil {
		return nil, err
	}
	return flockRW{l: l}, nil
}

type flockRW struct{ l *flockLocker }

func (r flockRW) take(ctx context.Context, how int) error {
	if err := flockRetry(r.l.fd, how); err != nil {
		return fmt.Errorf("bench: flock: %w", err)
	}
	if err := ctx.Err(); err != nil {
		_ = flockRetry(r.l.fd, unix.LOCK_UN)
		return fmt.Errorf("bench: flock: %w", err)
	}
	return nil
}

func (r flockRW) Lock(ctx context.Context) (uint64, error) { return 0, r.take(ctx, unix.LOCK_EX) }
func (r flockRW) RLock(ctx context.Context) error          { return r.take(ctx, unix.LOCK_SH) }
func (r flockRW) Unlock(context.Context) error             { return r.give() }
func (r flockRW) RUnlock(context.Context) error            { return r.give() }

func (r flockRW) give() error {
	if err := flockRetry(r.l.fd, unix.LOCK_UN); err != nil {
		return fmt.Errorf("bench: flock unlock: %w", err)
	}
	return nil
}
