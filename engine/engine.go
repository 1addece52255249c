// Package engine holds the lock rules of wwly as a pure, deterministic state
// machine: no sockets, no goroutines, no clock of its own. The transport feeds
// it requests with the current time and drains the events it returns, in the
// style of etcd-io/raft's Ready loop.
//
// An Engine is not safe for concurrent use: exactly one goroutine owns it.
package engine

import (
	"errors"
	"time"
)

// SessionID names one client session (one connection). The transport assigns it.
type SessionID uint64

// Sentinel errors carried by Failed events. Callers compare with errors.Is.
var (
	ErrNotHeld    = errors.New("engine: lock not held")
	ErrTimeout    = errors.New("engine: wait timed out")
	ErrQueueFull  = errors.New("engine: waiter queue full")
	ErrCancelled  = errors.New("engine: acquire cancelled")
	ErrDuplicate  = errors.New("engine: request id already waiting")
	ErrNameLength = errors.New("engine: bad lock name length")
)

// Config tunes an Engine. Use DefaultConfig and change what you need.
type Config struct {
	// QueueCap is the initial capacity of a name's waiter ring buffer; it grows by doubling.
	QueueCap int
	// MaxWaiters bounds the waiters of one name; an acquire beyond it fails with ErrQueueFull.
	MaxWaiters int
	// MaxName bounds the length of a lock name in bytes.
	MaxName int
	// Epoch is the high part of every fencing token (token = Epoch<<40 | counter).
	// The transport persists it and bumps it at each start so tokens rise across restarts.
	Epoch uint32
}

// DefaultConfig returns a fresh Config with the defaults.
func DefaultConfig() Config {
	return Config{QueueCap: 8, MaxWaiters: 1 << 16, MaxName: 256, Epoch: 1}
}

// Kind says what an Event reports.
type Kind uint8

const (
	// Granted: the acquire Req of Session now holds Name with fencing Token.
	Granted Kind = iota + 1
	// Failed: request Req of Session failed with Err.
	Failed
	// Done: request Req (release, renew, cancel) of Session succeeded.
	Done
	// Lost: Session no longer holds Name under Token (its lease expired); Req is the acquire's id.
	Lost
	// EpochBumped: the token counter of the current epoch ran out, the engine moved to epoch Token;
	// the transport must persist it before sending anything else.
	EpochBumped
)

// Event is one output of the engine, addressed to a session.
// Name aliases engine memory and is valid only until the next call into the engine.
type Event struct {
	Kind    Kind
	Session SessionID
	Req     uint64
	Token   uint64
	Name    []byte
	Err     error
}

// LockStatus describes one live lock.
type LockStatus struct {
	Name       string
	Holder     SessionID
	HolderReq  uint64
	Token      uint64
	Waiters    int
	OldestWait time.Duration // how long the longest waiter has waited; 0 with no waiters
	LeaseLeft  time.Duration // 0 when the holder has no lease
}

// Stats counts what the engine holds in memory.
type Stats struct {
	Locks    int // names with a holder or waiters
	Waiters  int
	Sessions int // sessions holding or waiting for something
}

// Engine is the state machine. All times are nanoseconds on one monotonic clock chosen by the caller.
type Engine struct {
	_ struct{} // implementation pending (issue 2)
}

// New returns an Engine, or an error when cfg is invalid.
func New(cfg Config) (*Engine, error) { panic("engine: not implemented") }

// Acquire asks for name on behalf of (s, req). wait is how long to queue: 0 = try-lock, <0 = forever.
// ttl > 0 gives the holder a lease that must be renewed before it runs out. Emits Granted now, or later
// Granted / Failed(ErrTimeout, ErrCancelled), or Failed(ErrQueueFull, ErrDuplicate, ErrNameLength) now.
func (e *Engine) Acquire(now int64, s SessionID, req uint64, name []byte, wait, ttl time.Duration) {
	panic("not implemented")
}

// Release frees name if s holds it under token: Done(req), and the next waiter (FIFO) is Granted.
// Otherwise Failed(req, ErrNotHeld) and nothing changes.
func (e *Engine) Release(now int64, s SessionID, req uint64, name []byte, token uint64) {
	panic("not implemented")
}

// Renew extends the lease of name held by s under token to now+ttl: Done(req), or Failed(req, ErrNotHeld).
func (e *Engine) Renew(now int64, s SessionID, req uint64, name []byte, token uint64, ttl time.Duration) {
	panic("not implemented")
}

// Cancel withdraws s's waiting acquire target: Failed(target, ErrCancelled) if it was still waiting,
// then always Done(req). A target already granted is not touched (the client releases it).
func (e *Engine) Cancel(now int64, s SessionID, req uint64, target uint64) { panic("not implemented") }

// CloseSession drops every wait of s and releases every lock it holds, granting the next waiters.
// Nothing is ever granted to s afterwards (until the transport reuses the id, which it must not).
func (e *Engine) CloseSession(now int64, s SessionID) { panic("not implemented") }

// Tick fires every deadline at or before now: wait timeouts (Failed ErrTimeout) and lease expiries
// (Lost to the holder, Granted to the next waiter).
func (e *Engine) Tick(now int64) { panic("not implemented") }

// NextDeadline reports the earliest pending deadline, if any, so the transport can arm one timer.
func (e *Engine) NextDeadline() (int64, bool) { panic("not implemented") }

// Events returns the events emitted since the last ClearEvents, in order.
func (e *Engine) Events() []Event { panic("not implemented") }

// ClearEvents forgets the emitted events; their Name slices become invalid.
func (e *Engine) ClearEvents() { panic("not implemented") }

// Status reports the lock name, or false when nobody holds or waits for it.
func (e *Engine) Status(now int64, name []byte) (LockStatus, bool) { panic("not implemented") }

// Locks calls fn for every live lock until fn returns false.
func (e *Engine) Locks(now int64, fn func(LockStatus) bool) { panic("not implemented") }

// Stats counts live state.
func (e *Engine) Stats() Stats { panic("not implemented") }
