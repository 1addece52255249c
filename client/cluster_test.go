package client

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// redirector is a real TCP listener that answers the first frame of every connection with
// REDIRECT(to), as a follower does, and closes.
func redirector(t *testing.T, to string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				f, err := wire.NewReader(conn, wire.DefaultLimits()).Next()
				if err != nil {
					return
				}
				_, _ = conn.Write(wire.AppendRedirect(nil, f.Req, []byte(to)))
			}()
		}
	}()
	return ln.Addr().String()
}

// deadAddr is a loopback address nobody listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestDialCluster: Dial walks an address list past unreachable members and followers
// (REDIRECT) to the server that answers; a lone follower's error says who leads.
func TestDialCluster(t *testing.T) {
	srv := startServer(t, nil)
	tests := []struct {
		name  string
		addrs func() string
		ok    bool
	}{
		{"redirect to the leader", func() string { return redirector(t, srv) }, true},
		{"dead, then a follower", func() string { return deadAddr(t) + "," + redirector(t, srv) }, true},
		{"follower knowing no leader, then the leader", func() string { return redirector(t, "") + ", " + srv }, true},
		{"only followers knowing no leader", func() string { return redirector(t, "") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			c, err := Dial(ctx, tt.addrs(), WithDialTimeout(2*time.Second))
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("dial succeeded with no leader anywhere")
			}
			if !errors.Is(err, ErrRedirect) {
				t.Fatalf("err = %v, want ErrRedirect", err)
			}
		})
	}
}

func TestSplitAddrs(t *testing.T) {
	got := splitAddrs(" a:1, ,b:2,")
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("splitAddrs = %q", got)
	}
}
