package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
)

// IOMode selects how a Client's connection reads and writes.
type IOMode uint8

const (
	// IONetConn uses a plain net.Conn: the reader goroutine parks in Go's netpoller.
	IONetConn IOMode = iota + 1
	// IOBlockingFD puts the socket in blocking mode and has a reader goroutine, locked to its OS
	// thread, sit in read(2); writes are plain write(2) calls. docs/performance.md cites a measured waiter
	// parked in the netpoller at about a third of the throughput of one blocked in a read syscall,
	// so this was tried; in this client it measured slower (p50 cycle ~90 µs against ~22 µs, and
	// fewer cycles/s with 1 to 32 contending processes): the reader thread blocked in a syscall
	// keeps its P, so the woken Lock caller waits for another M to steal it. Kept for comparison
	// (BenchmarkCycle, e2e TestContention). Unix systems only: on Windows Dial fails with
	// ErrUnsupportedOS.
	IOBlockingFD
)

// ErrUnsupportedOS is returned by Dial for an option this OS cannot do (IOBlockingFD off Unix).
var ErrUnsupportedOS = errors.New("not supported on this OS")

func (m IOMode) String() string {
	switch m {
	case IONetConn:
		return "netconn"
	case IOBlockingFD:
		return "blockingfd"
	}
	return fmt.Sprintf("IOMode(%d)", uint8(m))
}

// transport is the byte stream under a Client. Read is called by the reader goroutine only;
// Write by one writer at a time (the Client's write mutex); Close may be called at any time,
// from any goroutine, and must make a blocked Read return.
type transport interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Close() error
	// readerStart runs at the top of the reader goroutine (thread pinning), readerDone at its end.
	readerStart()
	readerDone()
	// keepAlive turns on TCP keepalive probes with cfg's timing.
	keepAlive(cfg net.KeepAliveConfig) error
}

func dialTransport(ctx context.Context, addr string, mode IOMode) (transport, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	tc := conn.(*net.TCPConn)
	_ = tc.SetNoDelay(true) // already Go's default; said here because the protocol depends on it
	if mode != IOBlockingFD {
		return newNetTransport(tc)
	}
	t, err := blockingTransport(tc)
	conn.Close() // the dup keeps the socket open; the netpoller lets go of the original fd
	if err != nil {
		return nil, fmt.Errorf("blocking socket: %w", err)
	}
	return t, nil
}

// netTransport is the default: a net.Conn whose reader parks in Go's netpoller. Its Read and
// Write are per OS (transport_netio_*.go).
type netTransport struct {
	*net.TCPConn
	rc syscall.RawConn
	io netIO // per-OS state of Read and Write
}

func newNetTransport(tc *net.TCPConn) (transport, error) {
	rc, err := tc.SyscallConn()
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("raw conn: %w", err)
	}
	return netTransport{TCPConn: tc, rc: rc, io: newNetIO()}, nil
}

func (netTransport) readerStart() {}
func (netTransport) readerDone()  {}

func (t netTransport) keepAlive(cfg net.KeepAliveConfig) error { return t.SetKeepAliveConfig(cfg) }
