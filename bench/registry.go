package bench

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// backends lists every backend linked into this build in report order: ours, its peers, then
// the yardsticks and the control. Backends hold no state, so one value serves every caller. The
// network peers (peerBackends) are left out of a lean worker build (tag wwlylean): their client
// libraries would make every wwly or flock worker process pay for Redis and etcd code.
var backends = slices.Concat([]Backend{wwlyBackend{}, wwlyTLSBackend{}, wwlyRaftBackend{}, flockBackend{}}, peerBackends,
	[]Backend{echoBackend{}, futexBackend{}, futexBcastBackend{}, noneBackend{}})

// leanNames are the backends a lean worker (built with tag wwlylean) links.
var leanNames = []string{"wwly", "wwly-tls", "wwly-raft", "flock", "tcp-echo", "futex-fifo", "futex-bcast", "none"}

// InLeanWorker reports whether the lean worker binary (cmd/wwly-worker built with tag wwlylean)
// can drive backend name; the others need the Redis worker or the full worker.
func InLeanWorker(name string) bool { return slices.Contains(leanNames, name) }

// redisNames are the backends the Redis worker (tags wwlylean,wwlyredis) adds to leanNames.
var redisNames = []string{"redsync", "redislock", "redis-pubsub"}

// InRedisWorker reports whether the Redis worker binary can drive backend name: the lean set and
// the Redis peers, without etcd's client (a gRPC stack whose start-up doubles a worker's).
func InRedisWorker(name string) bool { return InLeanWorker(name) || slices.Contains(redisNames, name) }

// ErrUnsupportedOS is returned by a backend that needs a kernel facility this OS lacks
// (futex-fifo needs Linux's futex(2)).
var ErrUnsupportedOS = errors.New("not supported on this OS")

// ErrUnknownBackend is returned by Lookup for a name no backend has.
var ErrUnknownBackend = fmt.Errorf("bench: unknown backend")

// Lookup returns the backend called name (see Names). Safe for concurrent use.
func Lookup(name string) (Backend, error) {
	for _, b := range backends {
		if b.Name() == name {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownBackend, name, strings.Join(Names(), ", "))
}

// Names returns every backend's name, in report order. The slice is the caller's.
func Names() []string {
	names := make([]string, 0, len(backends))
	for _, b := range backends {
		names = append(names, b.Name())
	}
	return slices.Clip(names)
}
