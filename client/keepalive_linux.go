package client

import (
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// keepAlive sets the probes on the descriptor directly: the net.TCPConn it came from is closed.
func (t *fdTransport) keepAlive(cfg net.KeepAliveConfig) error {
	opts := []struct{ level, opt, v int }{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, int(cfg.Idle / time.Second)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, int(cfg.Interval / time.Second)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, cfg.Count},
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(t.fd, o.level, o.opt, o.v); err != nil {
			return fmt.Errorf("keepalive: %w", err)
		}
	}
	return nil
}
