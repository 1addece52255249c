package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/wwly/wwly/client"
)

// heldLock is what `wwly lock` takes and holds: the exclusive Mutex (the default), a shared or
// exclusive hold of an RWMutex (-s/-x, as flock -s/-x) or one permit of a Semaphore
// (--semaphore N).
// *client.Mutex is one as it is; the other two are adapted below.
type heldLock interface {
	LockContext(ctx context.Context) error
	TryLockContext(ctx context.Context) (bool, error)
	Token() uint64         // fencing token of the hold; 0 where the kind has none
	Lost() <-chan struct{} // closed when the hold is gone without an Unlock
	Unlock()               // release, without waiting for the server's answer
	UnlockContext(ctx context.Context) error
}

var (
	_ heldLock = (*client.Mutex)(nil)
	_ heldLock = (*rwLock)(nil)
	_ heldLock = (*permitLock)(nil)
)

// newHeldLock picks the kind the flags ask for. --ttl goes only with the Mutex: the other kinds
// carry no lease (their holds end with the connection), which parseArgs has already checked.
func (o *lockOptions) newHeldLock(c *client.Client) heldLock {
	switch {
	case o.shared || o.exclusive:
		return &rwLock{rw: c.RWMutex(o.name), c: c, exclusive: o.exclusive}
	case o.semaphore > 0:
		return &permitLock{sem: c.Semaphore(o.name, o.semaphore), c: c}
	}
	var opts []client.MutexOption
	if o.ttl > 0 {
		opts = append(opts, client.WithTTL(o.ttl))
	}
	return c.Mutex(o.name, opts...)
}

// checkKindFlags refuses combinations the kinds cannot serve.
func (o *lockOptions) checkKindFlags() error {
	switch {
	case o.shared && o.exclusive:
		return errors.New("give -s/--shared or -x/--exclusive, not both")
	case (o.shared || o.exclusive) && o.semaphore > 0:
		return errors.New("give -s/-x or --semaphore, not both")
	case (o.shared || o.exclusive || o.semaphore > 0) && o.ttl > 0:
		return errors.New("--ttl goes only with the plain lock: -s, -x and --semaphore holds end with the connection")
	}
	return nil
}

// rwLock is a hold of an RWMutex: shared (-s, many at once, none beside a writer) or
// exclusive (-x, alone).
type rwLock struct {
	rw        *client.RWMutex
	c         *client.Client
	exclusive bool
}

func (l *rwLock) LockContext(ctx context.Context) (err error) {
	if l.exclusive {
		_, err = l.rw.LockContext(ctx)
	} else {
		_, err = l.rw.RLockContext(ctx)
	}
	return err
}

func (l *rwLock) TryLockContext(ctx context.Context) (bool, error) {
	if l.exclusive {
		return l.rw.TryLock(ctx)
	}
	return l.rw.TryRLock(ctx)
}

func (l *rwLock) Token() uint64         { return l.rw.Token() }
func (l *rwLock) Lost() <-chan struct{} { return l.c.Done() }

func (l *rwLock) Unlock() {
	if l.exclusive {
		l.rw.Unlock()
		return
	}
	l.rw.RUnlock()
}

// UnlockContext: an exclusive release waits for the server's answer; a shared one is sent
// without waiting (RUnlock is its only release), and the hold ends with the connection anyway.
func (l *rwLock) UnlockContext(ctx context.Context) error {
	if l.exclusive {
		return l.rw.UnlockContext(ctx, l.rw.Token())
	}
	l.rw.RUnlock()
	return nil
}

// permitLock is one permit of a Semaphore whose value is fixed by its first user.
type permitLock struct {
	sem *client.Semaphore
	c   *client.Client
}

func (p *permitLock) LockContext(ctx context.Context) error { return p.sem.Acquire(ctx, 1) }
func (p *permitLock) TryLockContext(ctx context.Context) (bool, error) {
	return p.sem.TryAcquireContext(ctx, 1)
}
func (p *permitLock) Token() uint64         { return 0 }
func (p *permitLock) Lost() <-chan struct{} { return p.c.Done() }
func (p *permitLock) Unlock()               { _ = p.sem.Release(1) }
func (p *permitLock) UnlockContext(ctx context.Context) error {
	return p.sem.ReleaseContext(ctx, 1)
}

// wrongKind explains ErrWrongKind in the flags' terms.
func (o *lockOptions) wrongKind(addr string) error {
	kind := "an exclusive lock"
	switch {
	case o.shared || o.exclusive:
		kind = "a reader/writer lock (-s/-x)"
	case o.semaphore > 0:
		kind = fmt.Sprintf("a semaphore of %d (--semaphore)", o.semaphore)
	}
	return exitWith(exitInternal, fmt.Errorf("the server at %s has %s in use as another kind (or another value) than %s",
		addr, displayName(o.name), kind))
}
