//go:build !wwlylean || wwlyredis

package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bsm/redislock"
	"github.com/go-redsync/redsync/v4"
	redsyncgoredis "github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
)

// envRedis is the Env key holding the Redis address.
const envRedis = "redis"

// redisTTL is the lease of a redislock lock. It is long against any benchmark hold, so a lock never
// expires under a live holder; redsync keeps its own default (8s).
const redisTTL = 10 * time.Second

// startRedis runs a private redis-server on a free loopback port with persistence off, or uses
// opts.Addrs["redis"]. Both Redis backends share it.
func startRedis(ctx context.Context, opts StartOptions) (Instance, error) {
	if a := opts.Addrs[envRedis]; a != "" {
		return &procInstance{env: Env{envRedis: a}}, nil
	}
	bin, err := lookBinary("redis-server")
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, fmt.Errorf("bench: redis: StartOptions.Dir is empty")
	}
	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		p, err := startProc("redis-server", bin, []string{
			"--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--dir", opts.Dir, "--maxclients", "20000", "--protected-mode", "no",
		}, opts.Dir, nil)
		if err != nil {
			return nil, err
		}
		if err := p.waitReady(ctx, redisPing(addr)); err != nil {
			lastErr = err
			_ = p.Stop()
			if errors.Is(err, errServerExited) {
				continue // most likely the port was taken meanwhile
			}
			return nil, err
		}
		return &procInstance{env: Env{envRedis: addr}, proc: p}, nil
	}
	return nil, fmt.Errorf("bench: redis-server did not start after %d attempts: %w", startAttempts, lastErr)
}

// redisPing is a readiness probe: one PING on a throwaway connection.
func redisPing(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MaxRetries: -1})
		defer c.Close()
		return c.Ping(ctx).Err()
	}
}

// newRedisClient is one worker's go-redis pool. The pool grows lazily, so thousands of workers
// each holding one cost one connection each.
func newRedisClient(ctx context.Context, env Env) (*redis.Client, error) {
	addr := env[envRedis]
	if addr == "" {
		return nil, fmt.Errorf("bench: redis: env has no %q address", envRedis)
	}
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 4})
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: redis %s: %w", addr, err)
	}
	return c, nil
}

// redsyncBackend drives go-redsync/redsync/v4 with its default options (8s expiry, 32 tries,
// 50–250 ms random retry delay) over a go-redis v9 pool: what its users get out of the box.
type redsyncBackend struct{}

func (redsyncBackend) Name() string    { return "redsync" }
func (redsyncBackend) Exclusive() bool { return true }
func (redsyncBackend) Tokens() bool    { return false }

func (redsyncBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	return startRedis(ctx, opts)
}

func (redsyncBackend) Connect(ctx context.Context, env Env) (Client, error) {
	c, err := newRedisClient(ctx, env)
	if err != nil {
		return nil, err
	}
	return &redsyncClient{rc: c, rs: redsync.New(redsyncgoredis.NewPool(c))}, nil
}

// redsyncClient is goroutine-safe; each of its Lockers is for one goroutine at a time.
type redsyncClient struct {
	rc *redis.Client
	rs *redsync.Redsync
}

func (c *redsyncClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: redsync: empty lock name")
	}
	return &redsyncLocker{m: c.rs.NewMutex("wwly-bench:" + name)}, nil
}

func (c *redsyncClient) Close() error { return c.rc.Close() }

type redsyncLocker struct {
	m    *redsync.Mutex
	held bool
}

// Lock calls LockContext again while it gives up (ErrFailed after its 32 tries, or ErrTaken) and
// ctx lasts: the Locker contract is "block until held or ctx ends", and redsync's own advice on
// failure is to call again. Its retry delays stay the library's defaults.
func (l *redsyncLocker) Lock(ctx context.Context) (uint64, error) {
	for {
		err := l.m.LockContext(ctx)
		if err == nil {
			l.held = true
			return 0, nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("bench: redsync lock: %w", ctx.Err())
		}
		var taken *redsync.ErrTaken
		if !errors.Is(err, redsync.ErrFailed) && !errors.As(err, &taken) {
			return 0, fmt.Errorf("bench: redsync lock: %w", err)
		}
	}
}

func (l *redsyncLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	err := l.m.TryLockContext(ctx)
	if err == nil {
		l.held = true
		return true, 0, nil
	}
	var taken *redsync.ErrTaken
	if errors.Is(err, redsync.ErrFailed) || errors.As(err, &taken) {
		return false, 0, nil
	}
	return false, 0, fmt.Errorf("bench: redsync trylock: %w", err)
}

func (l *redsyncLocker) Unlock(ctx context.Context) error {
	if !l.held {
		return ErrNotHeld
	}
	l.held = false
	ok, err := l.m.UnlockContext(ctx)
	if ok {
		return nil
	}
	if err == nil || errors.Is(err, redsync.ErrLockAlreadyExpired) {
		return fmt.Errorf("bench: redsync unlock: %w", ErrNotHeld)
	}
	return fmt.Errorf("bench: redsync unlock: %w", err)
}

// redislockBackend drives bsm/redislock with an exponential backoff retry (1 ms to 64 ms): the
// library does not retry by default, so a blocking Lock needs a strategy and this is the one its
// README suggests for contended keys.
type redislockBackend struct{}

func (redislockBackend) Name() string    { return "redislock" }
func (redislockBackend) Exclusive() bool { return true }
func (redislockBackend) Tokens() bool    { return false }

func (redislockBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	return startRedis(ctx, opts)
}

func (redislockBackend) Connect(ctx context.Context, env Env) (Client, error) {
	c, err := newRedisClient(ctx, env)
	if err != nil {
		return nil, err
	}
	return &redislockClient{rc: c, lc: redislock.New(c)}, nil
}

// redislockClient is goroutine-safe; each of its Lockers is for one goroutine at a time.
type redislockClient struct {
	rc *redis.Client
	lc *redislock.Client
}

func (c *redislockClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: redislock: empty lock name")
	}
	return &redislockLocker{c: c.lc, key: "wwly-bench:" + name}, nil
}

func (c *redislockClient) Close() error { return c.rc.Close() }

type redislockLocker struct {
	c    *redislock.Client
	key  string
	lock *redislock.Lock // non-nil while held
}

// Lock retries with exponential backoff until ctx ends. redislock gives up at its TTL when ctx has
// no deadline, so, as with redsync, a give-up without ctx ending is retried.
func (l *redislockLocker) Lock(ctx context.Context) (uint64, error) {
	for {
		opt := &redislock.Options{RetryStrategy: redislock.ExponentialBackoff(time.Millisecond, 64*time.Millisecond)}
		lk, err := l.c.Obtain(ctx, l.key, redisTTL, opt)
		if err == nil {
			l.lock = lk
			return 0, nil
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("bench: redislock lock: %w", ctx.Err())
		}
		if !errors.Is(err, redislock.ErrNotObtained) && !errors.Is(err, context.DeadlineExceeded) {
			return 0, fmt.Errorf("bench: redislock lock: %w", err)
		}
	}
}

func (l *redislockLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	lk, err := l.c.Obtain(ctx, l.key, redisTTL, nil) // nil options: no retry
	if errors.Is(err, redislock.ErrNotObtained) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("bench: redislock trylock: %w", err)
	}
	l.lock = lk
	return true, 0, nil
}

func (l *redislockLocker) Unlock(ctx context.Context) error {
	lk := l.lock
	l.lock = nil
	if lk == nil {
		return ErrNotHeld
	}
	if err := lk.Release(ctx); err != nil {
		if errors.Is(err, redislock.ErrLockNotHeld) {
			return fmt.Errorf("bench: redislock unlock: %w", ErrNotHeld)
		}
		return fmt.Errorf("bench: redislock unlock: %w", err)
	}
	return nil
}
