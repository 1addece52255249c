//go:build !linux

package bench

import (
	"context"
	"fmt"
	"runtime"
)

// futexBcastBackend stands in for futexbcast_linux.go's on systems without futex(2).
type futexBcastBackend struct{}

func (futexBcastBackend) Name() string        { return "futex-bcast" }
func (futexBcastBackend) Exclusive() bool     { return false }
func (futexBcastBackend) Tokens() bool        { return false }
func (futexBcastBackend) Workloads() []string { return []string{WorkloadFanout} }

func (futexBcastBackend) Start(context.Context, StartOptions) (Instance, error) {
	return nil, fmt.Errorf("bench: futex-bcast on %s: %w", runtime.GOOS, ErrUnsupportedOS)
}

func (futexBcastBackend) Connect(context.Context, Env) (Client, error) {
	return nil, fmt.Errorf("bench: futex-bcast on %s: %w", runtime.GOOS, ErrUnsupportedOS)
}
