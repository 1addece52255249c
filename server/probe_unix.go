//go:build unix

package server

import (
	"fmt"
	"net"
	"strconv"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// probeBind binds a TCP socket to addr and closes it, without listen(2), and returns the bound
// address (the kernel's pick when the port is 0). With SO_REUSEADDR and without SO_REUSEPORT,
// Linux refuses the bind while any socket listens on the port (a live server), and allows it
// over TIME_WAIT remains. Not listening matters: a probe that listened could accept a client's
// connection in the instant before it closes, and that client would see a reset from a server
// that looked up.
func probeBind(addr string) (string, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("addr %q: %w", addr, err)
	}
	family, sa := unix.AF_INET6, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil {
		family = unix.AF_INET
		s4 := &unix.SockaddrInet4{Port: ta.Port}
		copy(s4.Addr[:], ip4)
		sa = s4
	} else {
		s6 := &unix.SockaddrInet6{Port: ta.Port}
		copy(s6.Addr[:], ta.IP.To16()) // nil IP: the unspecified address, as net.Listen binds ":port"
		sa = s6
	}
	fd, err := probeSocket(family)
	if err != nil {
		return "", fmt.Errorf("probe %s: socket: %w", addr, err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return "", fmt.Errorf("probe %s: SO_REUSEADDR: %w", addr, err)
	}
	if family == unix.AF_INET6 && ta.IP == nil {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0) // dual stack, like net.Listen
	}
	if err := unix.Bind(fd, sa); err != nil {
		return "", listenErr(addr, fmt.Errorf("bind: %w", err))
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		return "", fmt.Errorf("probe %s: getsockname: %w", addr, err)
	}
	switch got := got.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(got.Addr[:]).String(), strconv.Itoa(got.Port)), nil
	case *unix.SockaddrInet6:
		host := ""
		if ta.IP != nil {
			host = net.IP(got.Addr[:]).String()
		}
		return net.JoinHostPort(host, strconv.Itoa(got.Port)), nil
	}
	return addr, nil
}

// boundAddr is the address gnet's listener is bound to (the real port when addr has port 0).
func boundAddr(eng gnet.Engine, addr string) (string, error) {
	fd, err := eng.Dup()
	if err != nil {
		return "", fmt.Errorf("listener: %w", err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return "", fmt.Errorf("listener: getsockname: %w", err)
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(sa.Addr[:]).String(), strconv.Itoa(sa.Port)), nil
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(sa.Addr[:]).String(), strconv.Itoa(sa.Port)), nil
	}
	return addr, nil
}
