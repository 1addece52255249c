package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrProcTCP is returned for a line of a /proc/net/tcp table that does not parse.
var ErrProcTCP = errors.New("bench: malformed /proc/net/tcp line")

// tcpEstablished is the st column of an established connection (include/net/tcp_states.h).
const tcpEstablished = 1

// procConn is one row of /proc/net/tcp.
type procConn struct {
	local, remote string // HOST:PORT
	state         int
	inode         string
}

// parseProcTCP parses the text of /proc/net/tcp (IPv4): a header line, then one socket a line,
// "sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...". Addresses are hex: the IPv4
// address as the kernel's native-endian u32 of the network-order bytes, then the port.
func parseProcTCP(text string) ([]procConn, error) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) == 0 || !strings.Contains(lines[0], "local_address") {
		return nil, fmt.Errorf("%w: no header", ErrProcTCP)
	}
	conns := make([]procConn, 0, len(lines)-1)
	for n, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 10 {
			return nil, fmt.Errorf("%w %d: %d fields", ErrProcTCP, n+2, len(f))
		}
		local, err1 := parseHexAddr(f[1])
		remote, err2 := parseHexAddr(f[2])
		st, err3 := strconv.ParseUint(f[3], 16, 8)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("%w %d: %w", ErrProcTCP, n+2, err)
		}
		conns = append(conns, procConn{local: local, remote: remote, state: int(st), inode: f[9]})
	}
	return conns, nil
}

// parseHexAddr turns "0100007F:1F90" into "127.0.0.1:8080".
func parseHexAddr(s string) (string, error) {
	ip, port, ok := strings.Cut(s, ":")
	if !ok || len(ip) != 8 {
		return "", fmt.Errorf("address %q is not IPv4 HEX:PORT", s)
	}
	v, err := strconv.ParseUint(ip, 16, 32)
	if err != nil {
		return "", fmt.Errorf("address %q: %w", s, err)
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return "", fmt.Errorf("port of %q: %w", s, err)
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(p)).String(), nil
}
