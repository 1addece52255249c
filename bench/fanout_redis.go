//go:build !wwlylean || wwlyredis

package bench

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// The fan-out peers: an event the way Redis and etcd users build one (this file Redis's,
// fanout_etcd.go etcd's). Neither is a lock, and each serves the fanout workload only.

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
