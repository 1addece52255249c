package client

import (
	"context"
	"fmt"
	"sync"

	"github.com/wwly/wwly/wire"
)

// RWMutex is a named reader/writer lock on the server (flock -s / -x across processes). Many
// readers hold it together, or one writer; waiters are served FIFO, consecutive readers
// together, so writers do not starve. Every grant has a fencing token. Holds belong to the
// connection: when it ends, the server releases them at once.
//
// An RWMutex is safe for concurrent use; goroutines of one Client that RLock the same RWMutex
// each get their own shared hold.
type RWMutex struct {
	c     *Client
	name  string
	nameB []byte
	opts  primOptions

	mu    sync.Mutex
	rtoks []uint64 // tokens of this value's shared holds (0: a failed RLock, nothing to send)
	wtoks []uint64 // the same for exclusive holds (at most one is granted at a time)
}

// RWMutex returns the reader/writer lock name on this Client. It sends nothing until locked.
// WithDeadlockDetection applies to exclusive acquires.
func (c *Client) RWMutex(name string, opts ...PrimOption) *RWMutex {
	return &RWMutex{c: c, name: name, nameB: []byte(name), opts: applyPrim(opts)}
}

// Name is the lock's name.
func (rw *RWMutex) Name() string { return rw.name }

// Token is the fencing token of this value's newest hold: the exclusive one if it holds the
// lock exclusively, else its newest shared hold; 0 when it holds nothing. It serves callers
// that took the lock through TryLock or TryRLock, which return no token.
func (rw *RWMutex) Token() uint64 {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if n := len(rw.wtoks); n > 0 {
		return rw.wtoks[n-1]
	}
	if n := len(rw.rtoks); n > 0 {
		return rw.rtoks[n-1]
	}
	return 0
}

func (rw *RWMutex) frame(action wire.Action, shared bool, token uint64, wait int64) *wire.Frame {
	f := &wire.Frame{Prim: wire.PrimRWMutex, Action: action, Token: token, Wait: wait, Name: rw.nameB}
	if shared {
		f.Flags |= wire.FlagShared
	}
	if rw.opts.detect && action == wire.ActAcquire && !shared {
		f.Flags |= wire.FlagDetect
	}
	return f
}

func (rw *RWMutex) acquire(ctx context.Context, shared bool, wait int64) (uint64, error) {
	a, err := rw.c.opAcquire(ctx, rw.frame(wire.ActAcquire, shared, 0, wait), func(a acquired) {
		rw.releaseAsync(a.token)
	})
	if err != nil {
		return 0, err
	}
	rw.mu.Lock()
	if shared {
		rw.rtoks = append(rw.rtoks, a.token)
	} else {
		rw.wtoks = append(rw.wtoks, a.token)
	}
	rw.mu.Unlock()
	return a.token, nil
}

// LockContext takes the lock exclusively, waiting until ctx ends, and returns the grant's
// fencing token. ErrDeadlock (WithDeadlockDetection), ErrWrongKind, ErrTimeout, ctx's error,
// or ErrClosed.
func (rw *RWMutex) LockContext(ctx context.Context) (uint64, error) {
	wait, err := ctxWait(ctx)
	if err != nil {
		return 0, fmt.Errorf("rwmutex %q: %w", rw.name, err)
	}
	return rw.acquire(ctx, false, wait)
}

// RLockContext takes a shared hold; see LockContext.
func (rw *RWMutex) RLockContext(ctx context.Context) (uint64, error) {
	wait, err := ctxWait(ctx)
	if err != nil {
		return 0, fmt.Errorf("rwmutex %q: %w", rw.name, err)
	}
	return rw.acquire(ctx, true, wait)
}

// TryLock takes the lock exclusively if that needs no wait (one round trip).
func (rw *RWMutex) TryLock(ctx context.Context) (bool, error) {
	_, err := rw.acquire(ctx, false, 0)
	if isTimeout(err) {
		return false, nil
	}
	return err == nil, err
}

// TryRLock takes a shared hold if that needs no wait (one round trip).
func (rw *RWMutex) TryRLock(ctx context.Context) (bool, error) {
	_, err := rw.acquire(ctx, true, 0)
	if isTimeout(err) {
		return false, nil
	}
	return err == nil, err
}

// Lock is LockContext without a ctx, for sync.Locker. It cannot report an error: when the
// acquire fails (the connection is gone), it returns as if locked so that Unlock stays
// balanced, and Unlock then sends nothing. Use LockContext when the failure matters.
func (rw *RWMutex) Lock() {
	if _, err := rw.LockContext(context.Background()); err != nil {
		rw.mu.Lock()
		rw.wtoks = append(rw.wtoks, 0)
		rw.mu.Unlock()
	}
}

// RLock is RLockContext without a ctx; see Lock.
func (rw *RWMutex) RLock() {
	if _, err := rw.RLockContext(context.Background()); err != nil {
		rw.mu.Lock()
		rw.rtoks = append(rw.rtoks, 0)
		rw.mu.Unlock()
	}
}

// Unlock releases an exclusive hold without waiting for the reply (pipelined, as Mutex.Unlock).
// Like sync.RWMutex, Unlock of an RWMutex not locked exclusively panics.
func (rw *RWMutex) Unlock() { rw.unlock(&rw.wtoks, "Unlock") }

// RUnlock releases one shared hold (any of this value's: they are alike) without waiting for
// the reply. It panics when the RWMutex holds no shared hold.
func (rw *RWMutex) RUnlock() { rw.unlock(&rw.rtoks, "RUnlock") }

func (rw *RWMutex) unlock(toks *[]uint64, what string) {
	rw.mu.Lock()
	n := len(*toks)
	if n == 0 {
		rw.mu.Unlock()
		panic(fmt.Sprintf("wwly: %s of unlocked RWMutex %q", what, rw.name))
	}
	tok := (*toks)[n-1]
	*toks = (*toks)[:n-1]
	rw.mu.Unlock()
	if tok != 0 {
		rw.releaseAsync(tok)
	}
}

// UnlockContext releases the exclusive hold of token and waits for the answer (ErrNotHeld when
// this connection holds none under it).
func (rw *RWMutex) UnlockContext(ctx context.Context, token uint64) error {
	rw.forget(token)
	return rw.c.opDo(ctx, rw.frame(wire.ActRelease, false, token, 0))
}

// forget drops token from the local lists.
func (rw *RWMutex) forget(token uint64) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	for _, toks := range []*[]uint64{&rw.rtoks, &rw.wtoks} {
		for i, t := range *toks {
			if t == token {
				*toks = append((*toks)[:i], (*toks)[i+1:]...)
				return
			}
		}
	}
}

func (rw *RWMutex) releaseAsync(token uint64) {
	req := rw.c.newReq()
	f := rw.frame(wire.ActRelease, false, token, 0)
	_ = rw.c.writeDeferred(func(b []byte) []byte { return appendOp(b, req, f) })
}

// RLocker returns a sync.Locker whose Lock and Unlock are RLock and RUnlock.
func (rw *RWMutex) RLocker() sync.Locker { return rlocker{rw} }

type rlocker struct{ rw *RWMutex }

func (r rlocker) Lock()   { r.rw.RLock() }
func (r rlocker) Unlock() { r.rw.RUnlock() }

var (
	_ sync.Locker = (*RWMutex)(nil)
	_ sync.Locker = rlocker{}
)
