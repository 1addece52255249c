//go:build !wwlylean

package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
)

// envEtcd is the Env key holding the etcd client endpoints, comma-separated.
const envEtcd = "etcd"

// etcdPrefix is where the benchmark's mutex keys live.
const etcdPrefix = "/wwly-bench/"

// etcdBackend drives go.etcd.io/etcd/client/v3/concurrency.Mutex with one Session (one lease)
// per worker. Its fencing token is the lock key's create revision, which rises per name.
type etcdBackend struct{}

func (etcdBackend) Name() string    { return "etcd" }
func (etcdBackend) Exclusive() bool { return true }
func (etcdBackend) Tokens() bool    { return true }

// Start runs a private single-member etcd on free loopback client and peer ports with its data
// dir under opts.Dir, or uses opts.Addrs["etcd"].
func (etcdBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	if a := opts.Addrs[envEtcd]; a != "" {
		return &procInstance{env: Env{envEtcd: a}}, nil
	}
	// One member of the etcd3 backend's cluster: the same start, ports, retries and readiness.
	return startEtcdCluster(ctx, opts, "etcd", 1)
}

// etcdProbe is a readiness probe: a linearizable Get, which needs an elected leader.
func etcdProbe(endpoint string) func(context.Context) error {
	return func(ctx context.Context) error {
		c, err := newEtcdClient(ctx, endpoint)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Get(ctx, etcdPrefix+"ready")
		return err
	}
}

func newEtcdClient(ctx context.Context, endpoints string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(endpoints, ","),
		DialTimeout: 5 * time.Second,
		Context:     ctx,
		Logger:      zap.NewNop(),
	})
}

func (etcdBackend) Connect(ctx context.Context, env Env) (Client, error) {
	endpoints := env[envEtcd]
	if endpoints == "" {
		return nil, fmt.Errorf("bench: etcd: env has no %q endpoints", envEtcd)
	}
	// The client's own context must outlive Connect's ctx: it is the Session's lifetime.
	c, err := newEtcdClient(context.Background(), endpoints)
	if err != nil {
		return nil, fmt.Errorf("bench: etcd client %s: %w", endpoints, err)
	}
	s, err := concurrency.NewSession(c, concurrency.WithContext(context.Background()))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: etcd session %s: %w", endpoints, err)
	}
	_ = ctx // NewSession's lease grant is bounded by the client's DialTimeout, not by ctx
	return &etcdClient{c: c, s: s}, nil
}

// etcdClient is goroutine-safe; each of its Lockers is for one goroutine at a time. All its
// Lockers share one Session, so two Lockers of one Client on the same name share one key: the
// harness gives each worker one Locker per name.
type etcdClient struct {
	c *clientv3.Client
	s *concurrency.Session
}

func (c *etcdClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: etcd: empty lock name")
	}
	return &etcdLocker{s: c.s, m: concurrency.NewMutex(c.s, etcdPrefix+name)}, nil
}

// Close revokes the session's lease (releasing anything still held) and closes the connection.
func (c *etcdClient) Close() error {
	return errors.Join(c.s.Close(), c.c.Close())
}

type etcdLocker struct {
	s    *concurrency.Session
	m    *concurrency.Mutex
	held bool
}

// etcdCleanupTimeout bounds the delete of a waiter key left by a failed Lock.
const etcdCleanupTimeout = 5 * time.Second

func (l *etcdLocker) Lock(ctx context.Context) (uint64, error) {
	if err := l.m.Lock(ctx); err != nil {
		l.dropWaiterKey()
		if ctx.Err() != nil {
			return 0, fmt.Errorf("bench: etcd lock: %w", ctx.Err())
		}
		if serverExpired(ctx, err) {
			return 0, fmt.Errorf("bench: etcd lock: server-side %w", context.DeadlineExceeded)
		}
		return 0, fmt.Errorf("bench: etcd lock: %w", err)
	}
	l.held = true
	return l.token(), nil
}

// serverExpired reports whether err is the server's report of the caller's own deadline. gRPC
// sends our deadline to the server as a timeout; the server can expire it a moment before our
// own timer fires and answers "Unknown: context deadline exceeded", or, when it expired while a
// proposal waited for raft (a loaded 3-member cluster), "etcdserver: request timed out". The
// latter is also etcd's answer to a proposal that outlived its own limit, so it counts as ours
// only when our deadline is (all but) reached.
func serverExpired(ctx context.Context, err error) bool {
	dl, ok := ctx.Deadline()
	switch {
	case !ok:
		return false
	case strings.Contains(err.Error(), context.DeadlineExceeded.Error()):
		return true
	default:
		return strings.Contains(err.Error(), "etcdserver: request timed out") && time.Until(dl) < 50*time.Millisecond
	}
}

func (l *etcdLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	err := l.m.TryLock(ctx)
	if errors.Is(err, concurrency.ErrLocked) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("bench: etcd trylock: %w", err)
	}
	l.held = true
	return true, l.token(), nil
}

// dropWaiterKey deletes this session's waiter key after a failed Lock. Mutex.Lock cleans up
// when ctx ends while it waits, but not when ctx ends during its first Txn: that Txn may have been
// applied, leaving a key that queues this session forever (until its lease ends), and once it
// reaches the head of the queue the lock is held by nobody. Deleting a key that is not there is a
// no-op; a Txn still in flight can outrun the delete, a rare window the next Lock of this Locker
// closes (it reuses the key).
func (l *etcdLocker) dropWaiterKey() {
	key := l.m.Key()
	if key == "" || key == "\x00" {
		return
	}
	ctx, cancel := context.WithTimeout(l.s.Ctx(), etcdCleanupTimeout)
	defer cancel()
	_, _ = l.s.Client().Delete(ctx, key)
}

// token is the held key's create revision. Mutex keeps it unexported but states it in IsOwner's
// comparison (create_revision == myRev), which costs no round trip to read.
func (l *etcdLocker) token() uint64 {
	cmp := l.m.IsOwner()
	rev := cmp.GetCompare().GetCreateRevision()
	if rev < 0 {
		return 0
	}
	return uint64(rev)
}

func (l *etcdLocker) Unlock(ctx context.Context) error {
	if !l.held {
		return ErrNotHeld
	}
	l.held = false
	if err := l.m.Unlock(ctx); err != nil {
		if errors.Is(err, concurrency.ErrLockReleased) {
			return fmt.Errorf("bench: etcd unlock: %w", ErrNotHeld)
		}
		return fmt.Errorf("bench: etcd unlock: %w", err)
	}
	return nil
}
