//go:build !linux

package futexlock

// Lock is unusable off Linux.
type Lock struct{}

// Map returns ErrUnsupported off Linux.
func Map(string, int, Wait) (*Lock, error) { return nil, ErrUnsupported }
