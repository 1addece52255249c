package client

import (
	"context"
	"fmt"
	"sync"

	"github.com/wwly/wwly/wire"
)

// RLock is a named re-entrant lock (Python's threading.RLock) on the server. Its owner is the
// connection plus an owner id the caller chooses: the same id may acquire again without
// waiting (the server counts the depth), and only that id may release. Go has no goroutine
// ids, so give each goroutine (or task) its own id, or its own handle from NewOwner.
//
// An RLock is safe for concurrent use. Whatever an owner holds is released when the Client's
// connection ends.
type RLock struct {
	c     *Client
	name  string
	nameB []byte
	opts  primOptions
}

// RLock returns the re-entrant lock name on this Client. It sends nothing until acquired.
// WithDeadlockDetection applies to its acquires.
func (c *Client) RLock(name string, opts ...PrimOption) *RLock {
	return &RLock{c: c, name: name, nameB: []byte(name), opts: applyPrim(opts)}
}

// Name is the lock's name.
func (r *RLock) Name() string { return r.name }

func (r *RLock) frame(action wire.Action, owner uint64, wait int64) *wire.Frame {
	f := &wire.Frame{Prim: wire.PrimRLock, Action: action, Owner: owner, Wait: wait, Name: r.nameB}
	if r.opts.detect && action == wire.ActAcquire {
		f.Flags = wire.FlagDetect
	}
	return f
}

// Acquire takes the lock for owner, waiting until it is free or ctx ends; an owner that holds
// it already is granted at once, one level deeper. It returns the fencing token of the
// outermost grant. ErrDeadlock (with WithDeadlockDetection), ErrWrongKind, ErrTimeout (ctx's
// deadline; wraps context.DeadlineExceeded), ctx's error, or ErrClosed otherwise.
func (r *RLock) Acquire(ctx context.Context, owner uint64) (uint64, error) {
	wait, err := ctxWait(ctx)
	if err != nil {
		return 0, fmt.Errorf("rlock %q: %w", r.name, err)
	}
	a, err := r.c.opAcquire(ctx, r.frame(wire.ActAcquire, owner, wait), r.undo(owner))
	return a.token, err
}

// TryAcquire takes the lock for owner only if that needs no wait (one round trip), and
// returns the token as Acquire does. It reports false with a nil error when the lock is busy.
func (r *RLock) TryAcquire(ctx context.Context, owner uint64) (uint64, bool, error) {
	a, err := r.c.opAcquire(ctx, r.frame(wire.ActAcquire, owner, 0), r.undo(owner))
	if isTimeout(err) {
		return 0, false, nil
	}
	return a.token, err == nil, err
}

// Release undoes one level of owner's hold; the last one frees the lock. ErrNotOwner when
// owner does not hold it (Python's RuntimeError).
func (r *RLock) Release(ctx context.Context, owner uint64) error {
	return r.c.opDo(ctx, r.frame(wire.ActRelease, owner, 0))
}

// undo gives back a grant its caller no longer waits for (reader goroutine: no blocking).
func (r *RLock) undo(owner uint64) func(acquired) {
	return func(acquired) {
		req := r.c.newReq()
		f := r.frame(wire.ActRelease, owner, 0)
		_ = r.c.writeDeferred(func(b []byte) []byte { return appendOp(b, req, f) })
	}
}

// NewOwner returns a handle that acquires under a fresh owner id of this Client: one per
// goroutine makes the RLock re-entrant per goroutine, as threading.RLock is per thread.
func (r *RLock) NewOwner() *RLockOwner {
	return &RLockOwner{r: r, id: r.c.nextOwner.Add(1)}
}

// Owner returns a handle for the owner id chosen by the caller.
func (r *RLock) Owner(id uint64) *RLockOwner { return &RLockOwner{r: r, id: id} }

// RLockOwner is one owner of an RLock: Lock and Unlock without an id. It is meant for one
// goroutine at a time (like the thread of a threading.RLock), but its methods are safe for
// concurrent use.
type RLockOwner struct {
	r  *RLock
	id uint64

	mu    sync.Mutex
	depth int
	token uint64
}

// ID is the owner id this handle acquires under.
func (o *RLockOwner) ID() uint64 { return o.id }

// Lock acquires (or re-enters) the RLock; see RLock.Acquire.
func (o *RLockOwner) Lock(ctx context.Context) error {
	tok, err := o.r.Acquire(ctx, o.id)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.depth++
	o.token = tok
	o.mu.Unlock()
	return nil
}

// TryLock acquires the RLock if that needs no wait; see RLock.TryAcquire.
func (o *RLockOwner) TryLock(ctx context.Context) (bool, error) {
	tok, ok, err := o.r.TryAcquire(ctx, o.id)
	if ok {
		o.mu.Lock()
		o.depth++
		o.token = tok
		o.mu.Unlock()
	}
	return ok, err
}

// Unlock undoes one Lock; see RLock.Release.
func (o *RLockOwner) Unlock(ctx context.Context) error {
	if err := o.r.Release(ctx, o.id); err != nil {
		return err
	}
	o.mu.Lock()
	if o.depth > 0 {
		if o.depth--; o.depth == 0 {
			o.token = 0
		}
	}
	o.mu.Unlock()
	return nil
}

// Token is the fencing token of the current hold (of its outermost grant), or 0 when not held.
func (o *RLockOwner) Token() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.token
}

// setToken records the token of a re-acquire by a Cond wait.
func (o *RLockOwner) setToken(tok uint64) {
	o.mu.Lock()
	o.token = tok
	o.mu.Unlock()
}
