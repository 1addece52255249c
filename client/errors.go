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
	// ErrTooManyConns: the server is at its connection limit and refused this connection.
	ErrTooManyConns = errors.New("wwly: server at its connection limit")
	// ErrSlowConsumer: the server dropped this connection because its replies piled up unread
	// past the server's outbound bound (this process did not read fast enough).
	ErrSlowConsumer = errors.New("wwly: dropped as a slow consumer")
	// ErrUnreachable: Dial could not connect to the server (refused, no route, unknown host, dial
	// timeout). It comes with ErrClosed, and the net error that says why.
	ErrUnreachable = errors.New("wwly: server unreachable")
	// ErrSilent: the server sent nothing for longer than its heartbeat timeout (it is stopped,
	// hung, or the network is cut); the connection was given up. It comes with ErrClosed and
	// ErrTimeout.
	ErrSilent = errors.New("wwly: server silent")
	// ErrNameLength: empty or over-long lock name.
	ErrNameLength = errors.New("wwly: bad lock name length")
	// ErrShutdown: the server is shutting down.
	ErrShutdown = errors.New("wwly: server shutting down")
	// ErrProtocol: the server sent something this client does not understand.
	ErrProtocol = errors.New("wwly: protocol error")
)

// codeError maps a wire code to the catalogue; msg is the server's text, kept for the message.
// The wire code stays reachable with errors.As(err, &wire.CodeError{}) but is not printed: a
// person reading the message has no use for the number.
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
	case wire.CodeTooManyRequests:
		base = ErrTooManyRequests
	case wire.CodeTooManyConns:
		base = ErrTooManyConns
	case wire.CodeSlowConsumer:
		base = ErrSlowConsumer
	case wire.CodeNameLength:
		base = ErrNameLength
	case wire.CodeShutdown:
		base = ErrShutdown
	case wire.CodeLeaseExpired:
		base = ErrLost
	case wire.CodeNoSession:
		base = ErrNoSession
	case wire.CodeUnavailable:
		base = ErrUnavailable
	default:
		base = ErrProtocol
	}
	return &serverError{base: base, code: wire.CodeError{Code: code, Msg: msg}}
}

// dialError is a failed connect: ErrUnreachable and ErrClosed (what callers test with errors.Is)
// and the net error that says why, in one line without repeating the program name.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string {
	return fmt.Sprintf("wwly: cannot reach %s: %v", e.addr, e.err)
}

func (e *dialError) Unwrap() []error { return []error{ErrUnreachable, ErrClosed, e.err} }

// silentError is the heartbeat cut: the server sent nothing for limit.
type silentError struct {
	limit string
}

func (e *silentError) Error() string {
	return "wwly: server silent: nothing received for " + e.limit
}

func (e *silentError) Unwrap() []error { return []error{ErrSilent, ErrClosed, ErrTimeout} }

// serverError is an ERROR or LOST from the server: a catalogue sentinel plus the wire code and
// the server's text.
type serverError struct {
	base error
	code wire.CodeError
}

func (e *serverError) Error() string {
	if e.code.Msg == "" {
		return e.base.Error()
	}
	return e.base.Error() + ": " + e.code.Msg
}

func (e *serverError) Unwrap() []error { return []error{e.base, e.code} }

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
