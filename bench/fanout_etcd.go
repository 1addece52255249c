//go:build !wwlylean

package bench

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

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
