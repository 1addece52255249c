//go:build !linux

package bench

import "fmt"

// connectedTo needs Linux's /proc; elsewhere a cluster's leader cannot be found this way.
func connectedTo([]string) ([]string, error) {
	return nil, fmt.Errorf("bench: finding connected peers: %w", ErrUnsupportedOS)
}
