//go:build !linux

package bench

import (
	"context"
	"fmt"
	"runtime"
)

// futexBackend stands in for futex_linux.go's on systems without futex(2): it keeps its name in
// the registry (scenarios and reports stay the same everywhere) and says why it cannot run.
type futexBackend struct{}

func (futexBackend) Name() string    { return "futex-fifo" }
func (futexBackend) Exclusive() bool { return true }
func (futexBackend) Tokens() bool    { return true }

func (futexBackend) Start(context.Context, StartOptions) (Instance, error) {
	return nil, fmt.Errorf("bench: futex-fifo on %s: %w", runtime.GOOS, ErrUnsupportedOS)
}

func (futexBackend) Connect(context.Context, Env) (Client, error) {
	return nil, fmt.Errorf("bench: futex-fifo on %s: %w", runtime.GOOS, ErrUnsupportedOS)
}
