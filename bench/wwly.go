package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/wwly/wwly/client"
)

// envWwly is the Env key holding the wwly server's address.
const envWwly = "wwly"

// wwlyBackend is our server, driven through the Go client its users use. Tokens are the server's
// fencing tokens.
type wwlyBackend struct{}

func (wwlyBackend) Name() string    { return "wwly" }
func (wwlyBackend) Exclusive() bool { return true }
func (wwlyBackend) Tokens() bool    { return true }

// Start runs `<opts.Binary> serve --addr 127.0.0.1:0 [opts.ServerArgs...]` in its own process
// group, learns the port from its `listening addr=HOST:PORT` log line, and waits until it accepts
// connections; or uses opts.Addrs["wwly"].
func (wwlyBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	if a := opts.Addrs[envWwly]; a != "" {
		return &procInstance{env: Env{envWwly: a}}, nil
	}
	p, addr, err := startServe(ctx, opts, nil, plainListenAddr)
	if err != nil {
		return nil, err
	}
	return &procInstance{env: Env{envWwly: addr}, proc: p}, nil
}

// plainListenAddr is the address of serve's plain listener ("listening addr=...").
func plainListenAddr(line string) (string, bool) {
	if strings.Contains(line, tlsListenMark) {
		return "", false
	}
	return parseListenAddr(line)
}

// startServe runs `<opts.Binary> serve --addr 127.0.0.1:0 --data-dir ... [extra...]
// [opts.ServerArgs...]` and waits until the address pick finds in its log accepts connections.
func startServe(ctx context.Context, opts StartOptions, extra []string, pick func(string) (string, bool)) (*serverProc, string, error) {
	bin, err := wwlyBinary(opts.Binary)
	if err != nil {
		return nil, "", err
	}
	if opts.Dir == "" {
		return nil, "", fmt.Errorf("bench: wwly: StartOptions.Dir is empty")
	}
	addrc := make(chan string, 1)
	var once sync.Once
	onLine := func(line string) {
		if a, ok := pick(line); ok {
			once.Do(func() { addrc <- a })
		}
	}
	// Port 0 has no default data dir: the epoch lives in the instance's scratch dir.
	args := slices.Concat([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(opts.Dir, "wwly-data")},
		extra, opts.ServerArgs)
	p, err := startProc("wwly", bin, args, opts.Dir, onLine)
	if err != nil {
		return nil, "", err
	}
	var addr string
	// The address line comes first; then readiness is a successful dial.
	err = p.waitReady(ctx, func(pctx context.Context) error {
		if addr == "" {
			select {
			case addr = <-addrc:
			case <-pctx.Done():
				return fmt.Errorf("no `listening addr=` line yet")
			}
		}
		return dialProbe(addr)(pctx)
	})
	if err != nil {
		_ = p.Stop()
		return nil, "", err
	}
	return p, addr, nil
}

func (wwlyBackend) Connect(ctx context.Context, env Env) (Client, error) {
	addr := env[envWwly]
	if addr == "" {
		return nil, fmt.Errorf("bench: wwly: env has no %q address", envWwly)
	}
	return dialWwly(ctx, addr)
}

// dialWwly connects a wwly or wwly-tls client.
func dialWwly(ctx context.Context, addr string, opts ...client.Option) (Client, error) {
	c, err := client.Dial(ctx, addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("bench: wwly dial %s: %w", addr, err)
	}
	return &wwlyClient{c: c}, nil
}

// wwlyClient is goroutine-safe (client.Client is); each Locker is for one goroutine at a time.
type wwlyClient struct{ c *client.Client }

func (c *wwlyClient) Locker(name string) (Locker, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: wwly: empty lock name")
	}
	return &wwlyLocker{m: c.c.Mutex(name)}, nil
}

func (c *wwlyClient) Close() error { return c.c.Close() }

type wwlyLocker struct{ m *client.Mutex }

func (l *wwlyLocker) Lock(ctx context.Context) (uint64, error) {
	if err := lockErr(ctx, l.m.LockContext(ctx)); err != nil {
		return 0, err
	}
	return l.m.Token(), nil
}

// lockErr is the error of a Mutex.LockContext(ctx) that returned err (nil stays nil): it wraps
// ctx's error when ctx ended, as the conformance suite expects.
func lockErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if _, ok := ctx.Deadline(); ok && cerr == nil && errors.Is(err, client.ErrTimeout) {
		// The client hands ctx's deadline to the server as the wait limit, so the server's
		// timeout can arrive a hair before ctx itself expires: it is the same deadline.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("bench: wwly lock: %w (%w)", cerr, err)
	}
	return fmt.Errorf("bench: wwly lock: %w", err)
}

func (l *wwlyLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	ok, err := l.m.TryLockContext(ctx)
	if err != nil || !ok {
		return false, 0, err
	}
	return true, l.m.Token(), nil
}

// Unlock pipelines the release (client.Mutex.Release does not wait for the server's reply), as a
// user of the client would: the uncontended cycle then costs one round trip, not two.
func (l *wwlyLocker) Unlock(context.Context) error {
	if err := l.m.Release(); err != nil {
		if errors.Is(err, client.ErrNotHeld) {
			return fmt.Errorf("bench: wwly unlock: %w", ErrNotHeld)
		}
		return fmt.Errorf("bench: wwly unlock: %w", err)
	}
	return nil
}
