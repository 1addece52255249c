package client

import (
	"errors"
	"fmt"

	"github.com/wwly/wwly/wire"
)

// The catalogue of client errors. Every error a Client or Mutex returns wraps one of these (and
// sometimes also a context error), so callers test with errors.Is.
var (
	// ErrNotHeld: release or renew of a lock this Mutex does not hold.
	ErrNotHeld = errors.New("wwly: lock not held")
	// ErrTimeout: the acquire wait ran out (server-side wait or the ctx deadline), or the
	// connection went silent past the heartbeat timeout.
	ErrTimeout = errors.New("wwly: timed out")
	// ErrLost: the lock was revoked while held (lease expired or connection died).
	ErrLost = errors.New("wwly: lock lost")
	// ErrQueueFull: too many waiters queue on that name.
	ErrQueueFull = errors.New("wwly: waiter queue full")
	// ErrAuth: the server refused the auth token.
	ErrAuth = errors.New("wwly: authentication failed")
	// ErrClosed: the Client is closed or its connection is gone.
	ErrClosed = errors.New("wwly: connection closed")
	// ErrCancelled: the acquire was cancelled (ctx cancelled, or CANCEL acknowledged).
	ErrCancelled = errors.New("wwly: acquire cancelled")
	// ErrTooManyRequests: the connection has too many outstanding requests.
	ErrTooManyRequests = errors.New("wwly: too many outstanding requests")
	// ErrNameLength: empty or over-long lock name.
	ErrNameLength = errors.New("wwly: bad lock name length")
	// ErrShutdown: the server is shutting down.
	ErrShutdown = errors.New("wwly: server shutting down")
	// ErrProtocol: the server sent something this client does not understand.
	ErrProtocol = errors.New("wwly: protocol error")
)

// codeError maps a wire code to the catalogue; msg is the server's text, kept for the message.
func codeError(code wire.Code, msg string) error {
	var base error
	switch code {
	case wire.CodeNotHeld:
		base = ErrNotHeld
	case wire.CodeTimeout:
		base = ErrTimeout
	case wire.CodeQueueFull:
		base = ErrQueueFull
	case wire.CodeAuth:
		base = ErrAuth
	case wire.CodeCancelled:
		base = ErrCancelled
	case wire.CodeTooManyRequests, wire.CodeTooManyConns, wire.CodeSlowConsumer:
		base = ErrTooManyRequests
	case wire.CodeNameLength:
		base = ErrNameLength
	case wire.CodeShutdown:
		base = ErrShutdown
	case wire.CodeLeaseExpired:
		base = ErrLost
	default:
		base = ErrProtocol
	}
	if msg == "" {
		return fmt.Errorf("%w (code %d)", base, code)
	}
	return fmt.Errorf("%w: %s (code %d)", base, msg, code)
}

// Errors of the primitives beyond the Mutex (protocol version 2).
var (
	// ErrWrongKind: the name is in use as another kind, or with another value, parties or lock.
	ErrWrongKind = errors.New("wwly: name in use as another kind")
	// ErrNotOwner: an RLock released by someone other than its owner, or a Cond used without
	// holding its lock (Python's RuntimeError).
	ErrNotOwner = errors.New("wwly: not the owner")
	// ErrOverRelease: a bounded Semaphore released past what is held (Python's ValueError).
	ErrOverRelease = errors.New("wwly: semaphore released too many times")
	// ErrBroken: the Barrier is broken (Python's BrokenBarrierError).
	ErrBroken = errors.New("wwly: barrier broken")
	// ErrDeadlock: the acquire would have closed a wait-for cycle; the message names it.
	ErrDeadlock = errors.New("wwly: deadlock")
	// ErrTooManyHolds: the connection holds, awaits or has open as many names as the server allows.
	ErrTooManyHolds = errors.New("wwly: too many holds")
	// ErrInvalid: an argument out of range (0 permits, 0 parties, ...), refused by the client
	// or the server.
	ErrInvalid = errors.New("wwly: invalid argument")
)
