package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/wwly/wwly/client"
)

// Workloads other than the exclusive mutex need more of a backend than Locker. A Client serves
// one when it implements the workload's interface below; a Backend says up front which ones its
// clients serve (WorkloadBackend), so the harness skips the others with the reason instead of
// starting workers that cannot work.

// Workload names, as in runfile (repeated here so bench does not import the run-file schema).
const (
	WorkloadMutex     = "mutex"
	WorkloadFanout    = "fanout"
	WorkloadRW        = "rw"
	WorkloadSemaphore = "semaphore"
)

// ErrUnsupported marks a workload a backend does not serve.
var ErrUnsupported = errors.New("bench: workload not supported by this backend")

// WorkloadBackend is a Backend that lists the workloads its clients serve. A Backend without it
// serves the mutex workload only.
type WorkloadBackend interface {
	Workloads() []string
}

// Supports reports whether b serves workload w ("" is mutex), and if not, why.
func Supports(b Backend, w string) error {
	if w == "" {
		w = WorkloadMutex
	}
	list := []string{WorkloadMutex}
	if wb, ok := b.(WorkloadBackend); ok {
		list = wb.Workloads()
	}
	if !slices.Contains(list, w) {
		return fmt.Errorf("%w: %s serves %v, not %s", ErrUnsupported, b.Name(), list, w)
	}
	return nil
}

// Event is one named event as one worker sees it: Wait returns once it is set (at once when it
// is), Set sets it and wakes every waiter, Clear clears it. An Event is for one goroutine.
type Event interface {
	Wait(ctx context.Context) error
	Set(ctx context.Context) error
	Clear(ctx context.Context) error
}

// Broadcaster is a Client that serves the fanout workload.
type Broadcaster interface {
	Event(ctx context.Context, name string) (Event, error)
}

// RWLock is one named reader-writer lock as one worker sees it; for one goroutine.
type RWLock interface {
	// Lock takes it exclusively; the token is the fencing token (0 when the backend has none).
	Lock(ctx context.Context) (token uint64, err error)
	Unlock(ctx context.Context) error
	RLock(ctx context.Context) error
	RUnlock(ctx context.Context) error
}

// RWLocker is a Client that serves the rw workload.
type RWLocker interface {
	RWLock(name string) (RWLock, error)
}

// Semaphore is one named counting semaphore as one worker sees it; for one goroutine.
type Semaphore interface {
	Acquire(ctx context.Context) error // one permit
	Release(ctx context.Context) error
}

// Semaphorer is a Client that serves the semaphore workload.
type Semaphorer interface {
	Semaphore(name string, permits int) (Semaphore, error)
}

// wwly serves every workload, through the client's Event, RWMutex and Semaphore.
func (wwlyBackend) Workloads() []string {
	return []string{WorkloadMutex, WorkloadFanout, WorkloadRW, WorkloadSemaphore}
}

var (
	_ Broadcaster = (*wwlyClient)(nil)
	_ RWLocker    = (*wwlyClient)(nil)
	_ Semaphorer  = (*wwlyClient)(nil)
)

// Event opens the event: an open name keeps a Set until Clear, so a waiter whose wait reaches
// the server after the set still finds it set (threading.Event's semantics).
func (c *wwlyClient) Event(ctx context.Context, name string) (Event, error) {
	e, err := c.c.OpenEvent(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("bench: wwly event %q: %w", name, err)
	}
	return e, nil
}

func (c *wwlyClient) RWLock(name string) (RWLock, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: wwly: empty lock name")
	}
	return &wwlyRW{rw: c.c.RWMutex(name)}, nil
}

// wwlyRW releases without waiting for the reply (pipelined), as wwlyLocker does.
type wwlyRW struct{ rw *client.RWMutex }

func (l *wwlyRW) Lock(ctx context.Context) (uint64, error) {
	tok, err := l.rw.LockContext(ctx)
	if err != nil {
		return 0, fmt.Errorf("bench: wwly rwmutex lock: %w", err)
	}
	return tok, nil
}

func (l *wwlyRW) RLock(ctx context.Context) error {
	if _, err := l.rw.RLockContext(ctx); err != nil {
		return fmt.Errorf("bench: wwly rwmutex rlock: %w", err)
	}
	return nil
}

func (l *wwlyRW) Unlock(context.Context) error  { l.rw.Unlock(); return nil }
func (l *wwlyRW) RUnlock(context.Context) error { l.rw.RUnlock(); return nil }

func (c *wwlyClient) Semaphore(name string, permits int) (Semaphore, error) {
	if name == "" || permits < 1 {
		return nil, fmt.Errorf("bench: wwly semaphore %q of %d permits: bad arguments", name, permits)
	}
	return &wwlySem{s: c.c.Semaphore(name, uint32(permits))}, nil
}

type wwlySem struct{ s *client.Semaphore }

func (s *wwlySem) Acquire(ctx context.Context) error {
	if err := s.s.Acquire(ctx, 1); err != nil {
		return fmt.Errorf("bench: wwly semaphore acquire: %w", err)
	}
	return nil
}

func (s *wwlySem) Release(ctx context.Context) error {
	if err := s.s.ReleaseContext(ctx, 1); err != nil {
		return fmt.Errorf("bench: wwly semaphore release: %w", err)
	}
	return nil
}

// eventOnly is embedded by the fanout-only backends: they are no lock, so Locker refuses.
type eventOnly struct{ name string }

func (e eventOnly) Locker(string) (Locker, error) {
	return nil, fmt.Errorf("%w: %s is an event, not a lock", ErrUnsupported, e.name)
}
