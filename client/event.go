package client

import (
	"context"
	"fmt"

	"github.com/wwly/wwly/wire"
)

// Event is a named flag on the server that processes wait for (Python's threading.Event).
// Set wakes every waiter at once — the server writes each connection all of its wake-ups in
// one write — and a waiter so woken has succeeded even if Clear follows at once.
//
// The flag lives while some connection has the name open, waits on it, or holds it. OpenEvent
// opens it, so a Set made through it lasts until Close (or the connection's end): keep an
// Event open for as long as later waiters should find it set. An Event is safe for concurrent
// use.
type Event struct {
	c     *Client
	name  string
	nameB []byte
}

// Event returns the event name on this Client without opening it (nothing is sent): a Set
// through it wakes the current waiters but is forgotten at once unless some connection has the
// name open. Use it to wait on, or to signal waiters that are already waiting.
func (c *Client) Event(name string) *Event { return &Event{c: c, name: name, nameB: []byte(name)} }

// OpenEvent opens the event name on this Client (one round trip): ErrWrongKind when the name
// is live as another kind, ErrTooManyHolds, ErrNameLength, or ErrClosed.
func (c *Client) OpenEvent(ctx context.Context, name string) (*Event, error) {
	e := &Event{c: c, name: name, nameB: []byte(name)}
	if err := c.opDo(ctx, e.frame(wire.ActOpen, 0)); err != nil {
		return nil, err
	}
	return e, nil
}

// Name is the event's name.
func (e *Event) Name() string { return e.name }

func (e *Event) frame(action wire.Action, wait int64) *wire.Frame {
	return &wire.Frame{Prim: wire.PrimEvent, Action: action, Wait: wait, Name: e.nameB}
}

// Set sets the flag and wakes every waiter.
func (e *Event) Set(ctx context.Context) error { return e.c.opDo(ctx, e.frame(wire.ActSet, 0)) }

// Clear clears the flag.
func (e *Event) Clear(ctx context.Context) error { return e.c.opDo(ctx, e.frame(wire.ActClear, 0)) }

// Wait returns nil once the flag is set (at once if it is), or ctx's error: ErrTimeout
// wrapping context.DeadlineExceeded when its deadline passed. Python's wait(timeout) is
// Wait with a ctx that has that deadline.
func (e *Event) Wait(ctx context.Context) error {
	wait, err := ctxWait(ctx)
	if err != nil {
		return fmt.Errorf("event %q: %w", e.name, err)
	}
	_, err = e.c.opAcquire(ctx, e.frame(wire.ActAcquire, wait), nil)
	return err
}

// IsSet reports the flag (one round trip).
func (e *Event) IsSet(ctx context.Context) (bool, error) {
	_, err := e.c.opAcquire(ctx, e.frame(wire.ActAcquire, 0), nil)
	if isTimeout(err) {
		return false, nil
	}
	return err == nil, err
}

// Close undoes OpenEvent; the flag is forgotten when nobody else keeps the name.
func (e *Event) Close(ctx context.Context) error { return e.c.opDo(ctx, e.frame(wire.ActClose, 0)) }
