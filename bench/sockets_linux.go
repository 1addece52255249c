package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// connectedTo returns those of addrs (IPv4 HOST:PORT) that this process has an established TCP
// connection to, in the order of addrs. It reads the socket table of the network namespace and
// keeps the sockets whose inode is one of this process's file descriptors.
func connectedTo(addrs []string) ([]string, error) {
	inodes, err := socketInodes("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	table, err := os.ReadFile("/proc/self/net/tcp")
	if err != nil {
		return nil, fmt.Errorf("bench: socket table: %w", err)
	}
	conns, err := parseProcTCP(string(table))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range addrs {
		for _, c := range conns {
			if c.remote == a && c.state == tcpEstablished && inodes[c.inode] {
				out = append(out, a)
				break
			}
		}
	}
	return out, nil
}

// socketInodes returns the inodes of the sockets open in fdDir (a /proc/PID/fd directory).
func socketInodes(fdDir string) (map[string]bool, error) {
	entries, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, fmt.Errorf("bench: open files: %w", err)
	}
	inodes := make(map[string]bool, len(entries))
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err != nil {
			continue // closed since ReadDir
		}
		if rest, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(rest, "]")] = true
		}
	}
	return inodes, nil
}
