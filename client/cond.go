package client

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/wwly/wwly/wire"
)

// CondLocker is a lock a Cond can be bound to: a *Mutex (without WithTTL) or an *RLockOwner.
type CondLocker interface {
	// condLock returns the lock's name and what names the caller's hold: the Mutex's token or
	// the RLock owner; an error when the caller cannot hold it.
	condLock() (name []byte, token, owner uint64, err error)
	// rebind records the hold a Cond wait ended with (acquire req, token).
	rebind(req, token uint64)
	// forfeit records that a cancelled Cond wait left the lock unheld.
	forfeit(err error)
}

// Cond is a named condition variable on the server (Python's threading.Condition) bound to a
// Mutex or an RLock owner: Wait releases the lock, waits for a Notify, and holds the lock again
// before it returns; Notify and NotifyAll must be called with the lock held (ErrNotOwner
// otherwise). Waits and notifies from any connection meet on the name.
type Cond struct {
	c     *Client
	name  string
	nameB []byte
	l     CondLocker
}

// Cond returns the condition name bound to l on this Client. It sends nothing yet. Every Cond
// on a name must be bound to the same lock name (ErrWrongKind otherwise).
func (c *Client) Cond(name string, l CondLocker) *Cond {
	return &Cond{c: c, name: name, nameB: []byte(name), l: l}
}

// Name is the condition's name.
func (cv *Cond) Name() string { return cv.name }

func (cv *Cond) frame(action wire.Action, n uint32, wait int64) (*wire.Frame, error) {
	lock, token, owner, err := cv.l.condLock()
	if err != nil {
		return nil, fmt.Errorf("cond %q: %w", cv.name, err)
	}
	return &wire.Frame{Prim: wire.PrimCondition, Action: action, N: n, Token: token, Owner: owner, Wait: wait,
		Name: cv.nameB, Lock: lock}, nil
}

// Wait releases the lock, waits for a Notify, and returns holding the lock again (a Mutex
// under a fresh token, which Token reports; an RLock at its old depth). When ctx's deadline
// passes first it also returns holding the lock, with ErrTimeout wrapping
// context.DeadlineExceeded (Python's wait returning False). When ctx is cancelled without a
// deadline passing, the wait is cancelled and the lock is NOT held again: a Mutex comes back
// lost (Unlock is quiet). ErrNotOwner when the caller does not hold the lock.
func (cv *Cond) Wait(ctx context.Context) error {
	wait, err := ctxWait(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) { // Python: a timeout of 0 still holds the lock
			wait = 0
		} else {
			return fmt.Errorf("cond %q: %w", cv.name, err)
		}
	}
	f, err := cv.frame(wire.ActAcquire, 0, wait)
	if err != nil {
		return err
	}
	// The server ends the wait at ctx's deadline holding the lock (ACQUIRED with TIMEOUT): wait
	// for that answer rather than race it, and give up early only on a cancellation.
	inner, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	defer stop()
	a, err := cv.c.opAcquire(inner, f, func(a acquired) {
		// Granted as we gave up: the lock is ours and nobody wants it.
		lf := &wire.Frame{Prim: wire.PrimMutex, Action: wire.ActRelease, Token: a.token, Owner: f.Owner, Name: f.Lock}
		if _, rl := cv.l.(*RLockOwner); rl {
			lf.Prim = wire.PrimRLock
		}
		req := cv.c.newReq()
		_ = cv.c.writeDeferred(func(b []byte) []byte { return appendOp(b, req, lf) })
	})
	if err != nil {
		if errors.Is(err, ErrCancelled) || errors.Is(err, context.Canceled) {
			cv.l.forfeit(err)
		}
		return err
	}
	cv.l.rebind(a.req, a.token)
	if a.code == wire.CodeTimeout {
		return fmt.Errorf("cond %q: %w (%w)", cv.name, ErrTimeout, context.DeadlineExceeded)
	}
	return nil
}

// Notify wakes up to n waiters (n < 1 means 1); each returns once it holds the lock.
func (cv *Cond) Notify(ctx context.Context, n int) error {
	k := uint32(min(max(n, 1), math.MaxUint32))
	f, err := cv.frame(wire.ActNotify, k, 0)
	if err != nil {
		return err
	}
	return cv.c.opDo(ctx, f)
}

// NotifyAll wakes every waiter.
func (cv *Cond) NotifyAll(ctx context.Context) error {
	f, err := cv.frame(wire.ActNotifyAll, 0, 0)
	if err != nil {
		return err
	}
	return cv.c.opDo(ctx, f)
}

func (m *Mutex) condLock() ([]byte, uint64, uint64, error) {
	if m.ttl > 0 {
		return nil, 0, 0, fmt.Errorf("%w: the Mutex of a Cond has no lease (WithTTL)", ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.held || m.isLost {
		return nil, 0, 0, fmt.Errorf("%w: Mutex %q is not held", ErrNotOwner, m.name)
	}
	return m.nameB, m.token, 0, nil
}

func (m *Mutex) rebind(req, token uint64) {
	m.mu.Lock()
	old := m.acq
	m.acq, m.token = req, token
	m.mu.Unlock()
	m.c.mu.Lock()
	if _, ok := m.c.held[old]; ok {
		delete(m.c.held, old)
		m.c.held[req] = m
	}
	m.c.mu.Unlock()
}

func (m *Mutex) forfeit(err error) {
	m.mu.Lock()
	acq := m.acq
	m.mu.Unlock()
	m.markLost(acq, err)
}

func (o *RLockOwner) condLock() ([]byte, uint64, uint64, error) {
	return o.r.nameB, 0, o.id, nil // the server checks the ownership
}

func (o *RLockOwner) rebind(_, token uint64) { o.setToken(token) }

func (o *RLockOwner) forfeit(error) {
	o.mu.Lock()
	o.depth, o.token = 0, 0
	o.mu.Unlock()
}

var (
	_ CondLocker = (*Mutex)(nil)
	_ CondLocker = (*RLockOwner)(nil)
)
