// Package bench holds the lock backends the load generator drives — wwly itself and its peers
// (flock, Redis locks, etcd locks) plus yardsticks (tcp-echo, futex-fifo) and the none control —
// behind one interface, with one conformance suite every lock backend passes.
//
// The backends, by Names() (Lookup finds one):
//
//	wwly        our server (a child `wwly serve`), driven through package client
//	wwly-tls    the same through the server's TLS 1.3 listener, with a throwaway CA (TLS's cost)
//	wwly-raft   three `wwly serve --raft-id ...` replicas on loopback; clients dial all three
//	flock       flock(2) LOCK_EX on one file per name, one fd per Locker
//	redsync     go-redsync/redsync/v4 with its defaults, on a private redis-server
//	redislock   bsm/redislock with exponential backoff, on a private redis-server
//	etcd        etcd client/v3 concurrency.Mutex, one Session per Client, on a private etcd
//	etcd3       the same on a private 3-member etcd cluster (replicated beside wwly-raft)
//	tcp-echo    not a lock: one 16-byte loopback round trip per Lock (the network floor)
//	futex-fifo  strict-FIFO ticket lock in shared memory, one futex wake per handoff (Linux)
//	none        no lock at all: the control that proves the exclusion checker can fail
//
// Servers missing here make Start fail with ErrUnavailable (run scripts/deps.sh). Every Client
// is safe for concurrent use; each Locker is for one goroutine at a time.
package bench

import (
	"context"
	"errors"
)

// ErrUnavailable marks a backend that cannot run here (its server is missing); the run skips it
// and says why.
var ErrUnavailable = errors.New("bench: backend unavailable")

// ErrNotHeld is returned by Unlock of a lock the locker does not hold.
var ErrNotHeld = errors.New("bench: lock not held")

// Env is what the coordinator tells each worker about a started backend (addresses, paths).
// It crosses process boundaries as JSON, so it is plain strings.
type Env map[string]string

// EnvOneWaiter, set to "1" in the Env given to Connect, promises that at most one goroutine of the
// process waits in a Lock at a time (a `wwly bench` worker). A backend may then block in raw
// syscalls that keep the goroutine's P (futex-fifo does; see futexlock.WaitRaw).
const EnvOneWaiter = "one-waiter"

// StartOptions configure a backend instance for one run.
type StartOptions struct {
	Dir        string            // a temp dir the instance owns (data dirs, lock files, shared memory)
	Binary     string            // the wwly binary to run servers from (os.Executable by default)
	ServerArgs []string          // extra flags for the wwly server (tunables)
	Addrs      map[string]string // given addresses: "wwly", "redis", "etcd" (comma-separated endpoints)
	MaxWorkers int               // upper bound of workers that will connect
}

// Instance is a started backend; Stop releases everything Start made.
type Instance interface {
	Env() Env
	// ServerPID is the pid of a server process the harness started, 0 if none (for RSS reports).
	ServerPID() int
	Stop() error
}

// Locker is one named lock as seen by one worker.
type Locker interface {
	// Lock blocks until held or ctx ends; token is the fencing token (0 when the backend has none).
	Lock(ctx context.Context) (token uint64, err error)
	// TryLock takes the lock only if it is free now.
	TryLock(ctx context.Context) (ok bool, token uint64, err error)
	// Unlock releases; ErrNotHeld when this locker does not hold it. It may return before the server
	// has processed the release (wwly pipelines it, as its client's users do), so another client's
	// TryLock right afterwards can still find the lock held for a moment.
	Unlock(ctx context.Context) error
}

// Client is one worker's connection to a backend (a session).
type Client interface {
	Locker(name string) (Locker, error)
	Close() error
}

// Backend is one kind of lock.
type Backend interface {
	Name() string
	// Exclusive is false for the yardsticks that are not locks (tcp-echo, none): their runs are
	// not failed by the exclusion checker (none is expected to show violations).
	Exclusive() bool
	// Tokens reports whether Lock returns fencing tokens that rise per name.
	Tokens() bool
	// Start runs once in the coordinator. An error wrapping ErrUnavailable means skip.
	Start(ctx context.Context, opts StartOptions) (Instance, error)
	// Connect runs in a worker process.
	Connect(ctx context.Context, env Env) (Client, error)
}
