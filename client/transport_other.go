//go:build !unix

package client

import (
	"fmt"
	"net"
	"runtime"
)

// blockingTransport: IOBlockingFD reads a blocking socket descriptor with read(2), which only
// Unix systems have; IONetConn works everywhere.
func blockingTransport(*net.TCPConn) (transport, error) {
	return nil, fmt.Errorf("client: IOBlockingFD on %s: %w", runtime.GOOS, ErrUnsupportedOS)
}
