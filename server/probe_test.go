package server

import (
	"errors"
	"net"
	"strings"
	"testing"
)

func TestProbeBind(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	cases := []struct {
		name, addr string
		wantErr    error
		wantHost   string
	}{
		{"loopback, kernel's port", "127.0.0.1:0", nil, "127.0.0.1"},
		{"any host, kernel's port", ":0", nil, ""},
		{"listened port", busy, ErrAddrInUse, ""},
		{"bad address", "127.0.0.1", nil, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := probeBind(tt.addr)
			switch {
			case tt.name == "bad address":
				if err == nil {
					t.Fatalf("probeBind(%q) = %q, want an error", tt.addr, got)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.addr) {
					t.Fatalf("probeBind(%q): %v, want %v naming the address", tt.addr, err, tt.wantErr)
				}
			default:
				host, port, perr := net.SplitHostPort(got)
				if err != nil || perr != nil || host != tt.wantHost || port == "0" {
					t.Fatalf("probeBind(%q) = %q, %v; want host %q and a real port", tt.addr, got, err, tt.wantHost)
				}
			}
		})
	}
}
