package client

// OP requests (protocol version 2): the machinery shared by RLock, Semaphore, RWMutex, Event,
// Cond and Barrier. Each of them builds a wire.Frame with its kind's fields and calls opDo
// (actions answered OK) or opAcquire (actions answered ACQUIRED).

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wwly/wwly/wire"
)

// PrimOption configures an RLock, Semaphore or RWMutex.
type PrimOption func(*primOptions)

type primOptions struct {
	detect  bool
	bounded bool
}

// WithDeadlockDetection makes every acquire that would wait ask the server to check the
// wait-for graph first: an acquire whose wait would close a cycle of holders fails at once
// with ErrDeadlock (the message names the cycle) instead of hanging. It costs nothing when the
// acquire does not wait. Semaphore permits and shared holds bind no owner and are not checked.
func WithDeadlockDetection() PrimOption { return func(o *primOptions) { o.detect = true } }

// WithBounded makes a Semaphore a BoundedSemaphore: a release past what is held fails with
// ErrOverRelease instead of raising the count.
func WithBounded() PrimOption { return func(o *primOptions) { o.bounded = true } }

func applyPrim(opts []PrimOption) primOptions {
	var o primOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// acquired is an ACQUIRED reply.
type acquired struct {
	req   uint64 // the acquire's request id
	token uint64
	value int64
	code  wire.Code
}

// replyError maps an ERROR frame's code to the catalogue, the version 2 codes included.
func replyError(code wire.Code, msg string) error {
	var base error
	switch code {
	case wire.CodeWrongKind:
		base = ErrWrongKind
	case wire.CodeNotOwner:
		base = ErrNotOwner
	case wire.CodeOverRelease:
		base = ErrOverRelease
	case wire.CodeBroken:
		base = ErrBroken
	case wire.CodeDeadlock:
		base = ErrDeadlock
		msg = strings.TrimPrefix(msg, "deadlock: ") // the sentinel says it already
	case wire.CodeTooManyHolds:
		base = ErrTooManyHolds
	case wire.CodeInvalid:
		base = ErrInvalid
	default:
		return codeError(code, msg)
	}
	if msg == "" {
		return fmt.Errorf("%w (code %d)", base, code)
	}
	return fmt.Errorf("%w: %s (code %d)", base, msg, code)
}

// ctxWait is the server-side wait for an acquire bounded by ctx: its deadline, or forever.
func ctxWait(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return -1, nil
	}
	wait := int64(time.Until(dl))
	if wait <= 0 {
		return 0, context.DeadlineExceeded
	}
	return wait, nil
}

// checkName reports a bad name before anything is sent.
func (c *Client) checkName(what string, name []byte) error {
	if err := wire.CheckName(name, c.opts.limits); err != nil {
		return fmt.Errorf("%s %q: %w (%w)", what, name, ErrNameLength, err)
	}
	return nil
}

// opDo sends the OP f and waits for its OK.
func (c *Client) opDo(ctx context.Context, f *wire.Frame) error {
	what := f.Action.String() + " " + f.Prim.String()
	if err := c.checkName(what, f.Name); err != nil {
		return err
	}
	if _, err := c.roundTrip(ctx, func(b []byte, req uint64) []byte { return appendOp(b, req, f) }); err != nil {
		return fmt.Errorf("%s %q: %w", what, f.Name, err)
	}
	return nil
}

// opAcquire sends the OP ACQUIRE f and waits for its ACQUIRED. When ctx ends first it sends
// CANCEL and returns ctx's error; a grant that crossed the CANCEL is handed to undo (from the
// reader goroutine, so undo must not block), as is one that arrives just as ctx ends. A wait
// the server timed out because ctx's deadline passed reports ErrTimeout wrapping
// context.DeadlineExceeded.
func (c *Client) opAcquire(ctx context.Context, f *wire.Frame, undo func(acquired)) (acquired, error) {
	what := f.Prim.String() + " wait"
	if err := c.checkName(what, f.Name); err != nil {
		return acquired{}, err
	}
	req := c.newReq()
	cl := &call{ch: make(chan reply, 1), wait: f.Wait != 0}
	if undo != nil {
		cl.undo = func(r reply) { undo(acquired{req: req, token: r.token, value: r.value, code: r.code}) }
	}
	if err := c.register(req, cl); err != nil {
		return acquired{}, fmt.Errorf("%s %q: %w", what, f.Name, err)
	}
	if err := c.write(func(b []byte) []byte { return appendOp(b, req, f) }); err != nil {
		c.unregister(req)
		return acquired{}, fmt.Errorf("%s %q: %w", what, f.Name, err)
	}
	select {
	case r := <-cl.ch:
		return c.acquireReply(ctx, what, f, req, r)
	case <-ctx.Done():
	}
	if c.abandon(req, cl) {
		return acquired{}, fmt.Errorf("%s %q: %w", what, f.Name, ctx.Err())
	}
	if r := <-cl.ch; r.err == nil && r.typ == wire.Acquired && undo != nil {
		undo(acquired{req: req, token: r.token, value: r.value, code: r.code})
	}
	return acquired{}, fmt.Errorf("%s %q: %w", what, f.Name, ctx.Err())
}

func (c *Client) acquireReply(ctx context.Context, what string, f *wire.Frame, req uint64, r reply) (acquired, error) {
	if r.err != nil {
		if _, ok := ctx.Deadline(); ok && f.Wait != 0 && errors.Is(r.err, ErrTimeout) {
			return acquired{}, fmt.Errorf("%s %q: %w (%w)", what, f.Name, r.err, context.DeadlineExceeded)
		}
		return acquired{}, fmt.Errorf("%s %q: %w", what, f.Name, r.err)
	}
	if r.typ != wire.Acquired {
		return acquired{}, fmt.Errorf("%s %q: %w: %v in reply to OP", what, f.Name, ErrProtocol, r.typ)
	}
	return acquired{req: req, token: r.token, value: r.value, code: r.code}, nil
}

// isTimeout reports a server TIMEOUT (a busy try).
func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) }

// kindName is a STATUS_REPLY kind as LockInfo.Kind spells it; 0 is a MUTEX (docs/protocol.md 10.1).
func kindName(p wire.Prim) string {
	if p == 0 {
		p = wire.PrimMutex
	}
	return p.String()
}
