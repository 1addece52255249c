package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wwly/wwly/client"
)

// raftDialTimeout bounds one recovery dial (resume or new session) after a failover: an
// election plus the client's own pauses between addresses.
const raftDialTimeout = 10 * time.Second

// raftClient is a wwly-raft worker's connection that outlives its leader, the way
// docs/replication.md tells a client to: when the connection is gone, a release is made on the
// new leader after RESUME of the session (ReleaseToken), and an acquire whose outcome is unknown
// is settled by resuming the session and closing it (whatever it may have been granted passes
// on), then opening a new one. That last step also drops the holds of this Client's other
// Lockers (their Unlock then returns ErrNotHeld): the failover measurement uses one Locker per
// Client. Safe for concurrent use.
type raftClient struct {
	addrs string

	mu  sync.Mutex // guards cl and gen
	cl  *client.Client
	gen int // bumped at every new connection
}

func dialRaft(ctx context.Context, addrs string) (Client, error) {
	cl, err := client.Dial(ctx, addrs)
	if err != nil {
		return nil, fmt.Errorf("bench: wwly-raft dial %s: %w", addrs, err)
	}
	return &raftClient{addrs: addrs, cl: cl}, nil
}

func (c *raftClient) current() (*client.Client, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cl, c.gen
}

// reconnect replaces connection gen, when it is still the current one and is gone, by a resume
// of its session; with fresh, the resumed session is then closed and a new one opened. It
// returns the current connection and generation.
func (c *raftClient) reconnect(gen int, fresh bool) (*client.Client, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.cl.Err() == nil {
		return c.cl, c.gen, nil // someone else recovered, or the connection is fine
	}
	ctx, cancel := context.WithTimeout(context.Background(), raftDialTimeout)
	defer cancel()
	old := c.cl
	_ = old.Close()
	r, err := dialRetry(ctx, c.addrs, client.WithResume(old.Session(), old.Secret()))
	if err != nil && !errors.Is(err, client.ErrNoSession) {
		return old, gen, fmt.Errorf("bench: wwly-raft resume session %d: %w", old.Session(), err)
	}
	if err != nil || fresh {
		if r != nil {
			_ = r.Close() // closing the resumed session releases whatever it held or was granted
		}
		if r, err = dialRetry(ctx, c.addrs); err != nil {
			return old, gen, fmt.Errorf("bench: wwly-raft new session: %w", err)
		}
	}
	c.cl = r
	c.gen++
	return c.cl, c.gen, nil
}

// dialRetry dials until it succeeds, the session is refused (ErrNoSession) or ctx ends: right
// after a leader dies the followers still redirect to it until they elect another, and one Dial
// gives up once it has gone round the list.
func dialRetry(ctx context.Context, addrs string, opts ...client.Option) (*client.Client, error) {
	for attempt := 0; ; attempt++ {
		cl, err := client.Dial(ctx, addrs, opts...)
		if err == nil || errors.Is(err, client.ErrNoSession) || ctx.Err() != nil || attempt >= maxDialRetries {
			return cl, err
		}
		pause(ctx, retryPause)
	}
}

// maxDialRetries bounds dialRetry's loop beside its ctx.
const maxDialRetries = 500

func (c *raftClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: wwly-raft: empty lock name")
	}
	return &raftLocker{c: c, name: name}, nil
}

func (c *raftClient) Close() error {
	cl, _ := c.current()
	if err := cl.Close(); err != nil && !errors.Is(err, client.ErrClosed) {
		return err
	}
	return nil
}

// raftLocker is for one goroutine at a time.
type raftLocker struct {
	c     *raftClient
	name  string
	m     *client.Mutex // of connection gen; nil when not held
	gen   int
	token uint64
}

func (l *raftLocker) Lock(ctx context.Context) (uint64, error) {
	cl, gen := l.c.current()
	m := cl.Mutex(l.name)
	if err := lockErr(ctx, m.LockContext(ctx)); err != nil {
		if cl.Err() != nil {
			_, _, rerr := l.c.reconnect(gen, true)
			err = errors.Join(err, rerr)
		}
		return 0, err
	}
	l.m, l.gen, l.token = m, gen, m.Token()
	return l.token, nil
}

func (l *raftLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	cl, gen := l.c.current()
	m := cl.Mutex(l.name)
	ok, err := m.TryLockContext(ctx)
	if err != nil && cl.Err() != nil {
		_, _, rerr := l.c.reconnect(gen, true)
		err = errors.Join(err, rerr)
	}
	if err != nil || !ok {
		return false, 0, err
	}
	l.m, l.gen, l.token = m, gen, m.Token()
	return true, l.token, nil
}

// Unlock pipelines the release on the connection that granted the lock; when that connection
// is gone, it resumes the session on the new leader and releases there by token.
func (l *raftLocker) Unlock(ctx context.Context) error {
	m, gen, token := l.m, l.gen, l.token
	if m == nil {
		return ErrNotHeld
	}
	l.m = nil
	cl, cur := l.c.current()
	if cur == gen && cl.Err() == nil {
		if err := m.Release(); err == nil {
			return nil
		} else if errors.Is(err, client.ErrNotHeld) {
			return fmt.Errorf("bench: wwly-raft unlock: %w", ErrNotHeld)
		}
	}
	cl, _, err := l.c.reconnect(gen, false)
	if err != nil {
		return err
	}
	if err := cl.ReleaseToken(ctx, l.name, token); err != nil {
		if errors.Is(err, client.ErrNotHeld) {
			return fmt.Errorf("bench: wwly-raft unlock after failover: %w", ErrNotHeld)
		}
		return fmt.Errorf("bench: wwly-raft unlock after failover: %w", err)
	}
	return nil
}
