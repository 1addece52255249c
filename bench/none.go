package bench

import "context"

// noneBackend is no lock at all: Lock returns at once. It is the control that proves the
// exclusion checker can fail — its runs are expected to show violations.
type noneBackend struct{}

func (noneBackend) Name() string    { return "none" }
func (noneBackend) Exclusive() bool { return false }
func (noneBackend) Tokens() bool    { return false }

func (noneBackend) Start(context.Context, StartOptions) (Instance, error) {
	return &procInstance{env: Env{}}, nil
}

func (noneBackend) Connect(context.Context, Env) (Client, error) { return noneClient{}, nil }

// noneClient and noneLocker hold no state, so they are goroutine-safe.
type noneClient struct{}

func (noneClient) Locker(string) (Locker, error) { return noneLocker{}, nil }
func (noneClient) Close() error                  { return nil }

type noneLocker struct{}

func (noneLocker) Lock(context.Context) (uint64, error)          { return 0, nil }
func (noneLocker) TryLock(context.Context) (bool, uint64, error) { return true, 0, nil }
func (noneLocker) Unlock(context.Context) error                  { return nil }
