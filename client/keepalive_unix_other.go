//go:build unix && !linux

package client

import "net"

// keepAlive is left to the system's defaults here: the option names differ between the BSDs
// and Darwin, and IOBlockingFD is a comparison mode. Heartbeats still watch a holder.
func (t *fdTransport) keepAlive(net.KeepAliveConfig) error { return nil }
