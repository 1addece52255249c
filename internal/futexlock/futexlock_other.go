//go:build !linux

package futexlock

import "time"

// Lock is unusable off Linux: Map never returns one.
type Lock struct{}

// Map returns ErrUnsupported off Linux.
func Map(string, int, Wait) (*Lock, error) { return nil, ErrUnsupported }

// Acquire returns ErrUnsupported off Linux.
func (*Lock) Acquire(time.Time, <-chan struct{}) (uint64, error) { return 0, ErrUnsupported }

// TryAcquire fails off Linux.
func (*Lock) TryAcquire() (uint64, bool) { return 0, false }

// Release does nothing off Linux.
func (*Lock) Release(uint64) {}

// Close does nothing off Linux.
func (*Lock) Close() error { return nil }
