//go:build !wwlylean

package bench

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The fan-out peers: an event the way Redis and etcd users build one. Neither is a lock, and
// each serves the fanout workload only.

// redisPubSubBackend: the setter SETs a key and PUBLISHes on a channel; a waiter SUBSCRIBEs
// first, then checks the key (a set that came before the subscription is seen by the check, one
// that came after by the message), and on a message checks the key again.
type redisPubSubBackend struct{}

func (redisPubSubBackend) Name() string        { return "redis-pubsub" }
func (redisPubSubBackend) Exclusive() bool     { return false }
func (redisPubSubBackend) Tokens() bool        { return false }
func (redisPubSubBackend) Workloads() []string { return []string{WorkloadFanout} }

func (redisPubSubBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	return startRedis(ctx, opts)
}

func (redisPubSubBackend) Connect(ctx context.Context, env Env) (Client, error) {
	rc, err := newRedisClient(ctx, env)
	if err != nil {
		return nil, err
	}
	return &redisPubSubClient{eventOnly: eventOnly{name: "redis-pubsub"}, rc: rc}, nil
}

// redisPubSubClient is goroutine-safe (go-redis is); each Event is for one goroutine.
type redisPubSubClient struct {
	eventOnly
	rc *redis.Client
}

func (c *redisPubSubClient) Close() error { return c.rc.Close() }

const redisEventPrefix = "wwly-event:"

func (c *redisPubSubClient) Event(_ context.Context, name string) (Event, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: redis-pubsub: empty name")
	}
	return &redisEvent{rc: c.rc, key: redisEventPrefix + name, channel: redisEventPrefix + "ch:" + name}, nil
}

// redisEvent keeps its subscription across waits (one per waiter, as a long-lived listener has).
type redisEvent struct {
	rc           *redis.Client
	key, channel string
	sub          *redis.PubSub
}

func (e *redisEvent) Wait(ctx context.Context) error {
	if e.sub == nil {
		sub := e.rc.Subscribe(ctx, e.channel)
		// Receive the subscription's confirmation: from here on no PUBLISH is missed.
		if _, err := sub.Receive(ctx); err != nil {
			_ = sub.Close()
			return fmt.Errorf("bench: redis-pubsub subscribe: %w", err)
		}
		e.sub = sub
	}
	for {
		n, err := e.rc.Exists(ctx, e.key).Result()
		if err != nil {
			return fmt.Errorf("bench: redis-pubsub check: %w", err)
		}
		if n > 0 {
			return nil
		}
		// A message may be stale (a set already cleared): the check above decides.
		if _, err := e.sub.ReceiveMessage(ctx); err != nil {
			return fmt.Errorf("bench: redis-pubsub receive: %w", err)
		}
	}
}

func (e *redisEvent) Set(ctx context.Context) error {
	if err := e.rc.Set(ctx, e.key, "1", 0).Err(); err != nil {
		return fmt.Errorf("bench: redis-pubsub set: %w", err)
	}
	if err := e.rc.Publish(ctx, e.channel, "set").Err(); err != nil {
		return fmt.Errorf("bench: redis-pubsub publish: %w", err)
	}
	return nil
}

func (e *redisEvent) Clear(ctx context.Context) error {
	if err := e.rc.Del(ctx, e.key).Err(); err != nil {
		return fmt.Errorf("bench: redis-pubsub clear: %w", err)
	}
	return nil
}

// etcdWatchBackend: the setter Puts a key; a waiter Gets it and, when absent, watches it from
// the revision after that Get, so no Put between the two is missed.
type etcdWatchBackend struct{}

func (etcdWatchBackend) Name() string        { return "etcd-watch" }
func (etcdWatchBackend) Exclusive() bool     { return false }
func (etcdWatchBackend) Tokens() bool        { return false }
func (etcdWatchBackend) Workloads() []string { return []string{WorkloadFanout} }

func (etcdWatchBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	return etcdBackend{}.Start(ctx, opts)
}

func (etcdWatchBackend) Connect(_ context.Context, env Env) (Client, error) {
	endpoints := env[envEtcd]
	if endpoints == "" {
		return nil, fmt.Errorf("bench: etcd-watch: env has no %q endpoints", envEtcd)
	}
	c, err := newEtcdClient(context.Background(), endpoints)
	if err != nil {
		return nil, fmt.Errorf("bench: etcd-watch client %s: %w", endpoints, err)
	}
	return &etcdWatchClient{eventOnly: eventOnly{name: "etcd-watch"}, c: c}, nil
}

type etcdWatchClient struct {
	eventOnly
	c *clientv3.Client
}

func (c *etcdWatchClient) Close() error { return c.c.Close() }

const etcdEventPrefix = "/wwly-event/"

func (c *etcdWatchClient) Event(_ context.Context, name string) (Event, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: etcd-watch: empty name")
	}
	return &etcdEvent{c: c.c, key: etcdEventPrefix + name}, nil
}

type etcdEvent struct {
	c   *clientv3.Client
	key string
}

var errWatchClosed = errors.New("watch channel closed")

func (e *etcdEvent) Wait(ctx context.Context) error {
	get, err := e.c.Get(ctx, e.key)
	if err != nil {
		return fmt.Errorf("bench: etcd-watch get: %w", err)
	}
	if len(get.Kvs) > 0 {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := e.c.Watch(wctx, e.key, clientv3.WithRev(get.Header.Revision+1), clientv3.WithFilterDelete())
	for resp := range wch {
		if err := resp.Err(); err != nil {
			return fmt.Errorf("bench: etcd-watch: %w", err)
		}
		if len(resp.Events) > 0 {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench: etcd-watch: %w", err)
	}
	return fmt.Errorf("bench: etcd-watch: %w", errWatchClosed)
}

func (e *etcdEvent) Set(ctx context.Context) error {
	if _, err := e.c.Put(ctx, e.key, "1"); err != nil {
		return fmt.Errorf("bench: etcd-watch put: %w", err)
	}
	return nil
}

func (e *etcdEvent) Clear(ctx context.Context) error {
	if _, err := e.c.Delete(ctx, e.key); err != nil {
		return fmt.Errorf("bench: etcd-watch delete: %w", err)
	}
	return nil
}
