package client

import (
	"context"
	"fmt"
	"math"

	"github.com/wwly/wwly/wire"
)

// Barrier is a named barrier of a fixed number of parties on the server (Python's
// threading.Barrier): each Wait blocks until that many waits have arrived, across any
// connections, then all return together and the barrier is ready for the next round.
//
// A wait that times out, is cancelled or whose connection ends breaks the barrier: the other
// waiters, and every later one until Reset, fail with ErrBroken. Its parties are fixed by the
// first user while the name is live; another count on the same name fails with ErrWrongKind.
// A Barrier is safe for concurrent use.
type Barrier struct {
	c       *Client
	name    string
	nameB   []byte
	parties uint32
}

// Barrier returns the barrier name of parties parties on this Client. It sends nothing yet.
func (c *Client) Barrier(name string, parties int) *Barrier {
	p := uint32(0) // 0 parties is refused by the server: ErrInvalid on first use
	if parties > 0 && parties <= math.MaxUint32 {
		p = uint32(parties)
	}
	return &Barrier{c: c, name: name, nameB: []byte(name), parties: p}
}

// Name is the barrier's name.
func (b *Barrier) Name() string { return b.name }

func (b *Barrier) frame(action wire.Action, wait int64) *wire.Frame {
	return &wire.Frame{Prim: wire.PrimBarrier, Action: action, Param: b.parties, Wait: wait, Name: b.nameB}
}

// Wait arrives at the barrier and returns this arrival's index, 0 for the first of the round
// and parties-1 for the last, once every party has arrived. ErrBroken when the barrier is or
// becomes broken; when ctx ends first, ctx's error (ErrTimeout wrapping
// context.DeadlineExceeded for its deadline), and the barrier is broken for the others, as
// Python's is by a wait that times out.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	wait, err := ctxWait(ctx)
	if err != nil {
		return 0, fmt.Errorf("barrier %q: %w", b.name, err)
	}
	a, err := b.c.opAcquire(ctx, b.frame(wire.ActAcquire, wait), nil)
	return int(a.value), err
}

// Abort breaks the barrier: current and later waits fail with ErrBroken until Reset.
func (b *Barrier) Abort(ctx context.Context) error { return b.c.opDo(ctx, b.frame(wire.ActAbort, 0)) }

// Reset fails the current waiters with ErrBroken and makes the barrier whole again.
func (b *Barrier) Reset(ctx context.Context) error { return b.c.opDo(ctx, b.frame(wire.ActReset, 0)) }
