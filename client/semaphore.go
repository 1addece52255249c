package client

import (
	"context"
	"fmt"
	"math"

	"github.com/wwly/wwly/wire"
)

// Semaphore is a named counting semaphore on the server, shaped like
// golang.org/x/sync/semaphore.Weighted (and Python's threading.Semaphore, or BoundedSemaphore
// WithBounded). Its value — the permits it starts with — is fixed by its first user while the
// name is live; a Semaphore with another value on the same name fails with ErrWrongKind.
//
// Acquires are served in FIFO order, so a large request is not starved by small ones. Permits
// are held by the connection: when it ends, the server gets back at once the permits it still
// holds. A Semaphore is safe for concurrent use.
type Semaphore struct {
	c     *Client
	name  string
	nameB []byte
	value uint32
	prim  wire.Prim
}

// Semaphore returns the semaphore name of value permits on this Client. It sends nothing yet.
func (c *Client) Semaphore(name string, value uint32, opts ...PrimOption) *Semaphore {
	o := applyPrim(opts)
	s := &Semaphore{c: c, name: name, nameB: []byte(name), value: value, prim: wire.PrimSemaphore}
	if o.bounded {
		s.prim = wire.PrimBoundedSemaphore
	}
	return s
}

// Name is the semaphore's name.
func (s *Semaphore) Name() string { return s.name }

func (s *Semaphore) frame(action wire.Action, n int64, wait int64) (*wire.Frame, error) {
	if n < 1 || n > math.MaxUint32 {
		return nil, fmt.Errorf("semaphore %q: %d permits: %w (want 1..%d)", s.name, n, ErrInvalid, uint32(math.MaxUint32))
	}
	return &wire.Frame{Prim: s.prim, Action: action, N: uint32(n), Param: s.value, Wait: wait, Name: s.nameB}, nil
}

// Acquire takes n permits, waiting until they are free or ctx ends. On failure it takes
// none: ctx's error (ErrTimeout wrapping context.DeadlineExceeded when the server timed out the
// wait at ctx's deadline), ErrWrongKind, ErrInvalid, or ErrClosed.
func (s *Semaphore) Acquire(ctx context.Context, n int64) error {
	wait, err := ctxWait(ctx)
	if err != nil {
		return fmt.Errorf("semaphore %q: %w", s.name, err)
	}
	f, err := s.frame(wire.ActAcquire, n, wait)
	if err != nil {
		return err
	}
	_, err = s.c.opAcquire(ctx, f, s.undo(n))
	return err
}

// TryAcquire takes n permits if they are free now and no one waits before it (one round trip),
// and reports whether it did. A connection error also reports false.
func (s *Semaphore) TryAcquire(n int64) bool {
	ok, _ := s.TryAcquireContext(context.Background(), n)
	return ok
}

// TryAcquireContext is TryAcquire with a ctx and the error.
func (s *Semaphore) TryAcquireContext(ctx context.Context, n int64) (bool, error) {
	f, err := s.frame(wire.ActAcquire, n, 0)
	if err != nil {
		return false, err
	}
	_, err = s.c.opAcquire(ctx, f, s.undo(n))
	if isTimeout(err) {
		return false, nil
	}
	return err == nil, err
}

// Release gives back n permits and waits for the server's answer. As in Python, any connection
// may release: permits come first from this connection's holds, then from others' (which then
// do not come back again when those end). Past everything held, a plain Semaphore's count
// rises above its value; a bounded one fails with ErrOverRelease and changes nothing.
func (s *Semaphore) Release(n int64) error { return s.ReleaseContext(context.Background(), n) }

// ReleaseContext is Release bounded by ctx.
func (s *Semaphore) ReleaseContext(ctx context.Context, n int64) error {
	f, err := s.frame(wire.ActRelease, n, 0)
	if err != nil {
		return err
	}
	return s.c.opDo(ctx, f)
}

func (s *Semaphore) undo(n int64) func(acquired) {
	return func(acquired) {
		f, _ := s.frame(wire.ActRelease, n, 0)
		req := s.c.newReq()
		_ = s.c.writeDeferred(func(b []byte) []byte { return appendOp(b, req, f) })
	}
}
