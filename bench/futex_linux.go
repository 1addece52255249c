package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/wwly/wwly/internal/futexlock"
)

// envFutexSlots is the Env key holding the number of wait slots per name.
const envFutexSlots = "slots"

// futexBackend is the strict-FIFO ticket lock of package futexlock, one shared mmap'd file per
// name, handing off with exactly one futex wake: the physical limit of a fair handoff between
// processes on this host, with no network at all. Its token is the ticket number + 1. Start sizes
// the files at 2 × MaxWorkers slots. The lock is not robust to a process killed while it holds a
// ticket; the harness stops workers only between cycles. cmd/futexfloor runs the same lock with
// no harness around it (the yardstick of the harness's own overhead).
type futexBackend struct{}

func (futexBackend) Name() string    { return "futex-fifo" }
func (futexBackend) Exclusive() bool { return true }
func (futexBackend) Tokens() bool    { return true }

func (futexBackend) Start(_ context.Context, opts StartOptions) (Instance, error) {
	dir, err := lockDir(opts.Dir, "futex")
	if err != nil {
		return nil, err
	}
	slots := max(2*opts.MaxWorkers, 256)
	return &procInstance{env: Env{envDir: dir, envFutexSlots: strconv.Itoa(slots)}}, nil
}

func (futexBackend) Connect(_ context.Context, env Env) (Client, error) {
	dir := env[envDir]
	if dir == "" {
		return nil, fmt.Errorf("bench: futex-fifo: env has no %q", envDir)
	}
	slots, err := strconv.Atoi(env[envFutexSlots])
	if err != nil || slots < 2 || slots > 1<<22 {
		return nil, fmt.Errorf("bench: futex-fifo: bad %q %q", envFutexSlots, env[envFutexSlots])
	}
	wait := futexlock.WaitScheduled
	if env[EnvOneWaiter] == "1" {
		wait = futexlock.WaitRaw
	}
	return &futexClient{dir: dir, slots: slots, wait: wait}, nil
}

// futexClient is goroutine-safe; each Locker is for one goroutine at a time.
type futexClient struct {
	dir   string
	slots int
	wait  futexlock.Wait

	mu    sync.Mutex
	names map[string]*futexlock.Lock // mu guards; one mapping per name per Client
}

func (c *futexClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: futex-fifo: empty lock name")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = make(map[string]*futexlock.Lock)
	}
	fl := c.names[name]
	if fl == nil {
		var err error
		if fl, err = futexlock.Map(filepath.Join(c.dir, nameFile("futex-", name)), c.slots, c.wait); err != nil {
			return nil, fmt.Errorf("bench: futex-fifo: %w", err)
		}
		c.names[name] = fl
	}
	return &futexLocker{l: fl}, nil
}

// Close unmaps every name's file. Lockers must not be used afterwards.
func (c *futexClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, fl := range c.names {
		errs = append(errs, fl.Close())
	}
	c.names = nil
	return errors.Join(errs...)
}

type futexLocker struct {
	l      *futexlock.Lock
	ticket uint64 // the held ticket, valid while held
	held   bool
}

// Lock waits for a ticket's grant until ctx ends (see futexlock.Lock.Acquire); a timed-out Lock
// never holds. Its token is the ticket + 1.
func (x *futexLocker) Lock(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("bench: futex-fifo lock: %w", err)
	}
	if x.held {
		return 0, fmt.Errorf("bench: futex-fifo lock: already held by this locker")
	}
	deadline, _ := ctx.Deadline()
	t, err := x.l.Acquire(deadline, ctx.Done())
	if err != nil {
		if errors.Is(err, futexlock.ErrGaveUp) {
			cause := ctx.Err()
			if cause == nil {
				cause = context.DeadlineExceeded // the deadline passed a moment before ctx noticed
			}
			return 0, fmt.Errorf("bench: futex-fifo lock: %w", cause)
		}
		return 0, fmt.Errorf("bench: futex-fifo lock: %w", err)
	}
	return x.acquired(t), nil
}

func (x *futexLocker) acquired(t uint64) uint64 {
	x.ticket = t
	x.held = true
	return t + 1
}

// TryLock takes a ticket only when it would be served at once.
func (x *futexLocker) TryLock(context.Context) (bool, uint64, error) {
	if x.held {
		return false, 0, fmt.Errorf("bench: futex-fifo trylock: already held by this locker")
	}
	t, ok := x.l.TryAcquire()
	if !ok {
		return false, 0, nil
	}
	return true, x.acquired(t), nil
}

func (x *futexLocker) Unlock(context.Context) error {
	if !x.held {
		return ErrNotHeld
	}
	x.held = false
	x.l.Release(x.ticket)
	return nil
}
