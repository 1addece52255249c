package bench

import (
	"strings"
	"testing"
)

func TestParseListenAddr(t *testing.T) {
	tests := []struct {
		line, want string
		ok         bool
	}{
		{`time=2026-11-23T04:00:00Z level=INFO msg=listening addr=127.0.0.1:40123`, "127.0.0.1:40123", true},
		{`time=x level=INFO msg=listening addr=127.0.0.1:1977 loops=1`, "127.0.0.1:1977", true},
		{`level=INFO msg=listening addr="127.0.0.1:5"`, "127.0.0.1:5", true},
		{`{"time":"x","level":"INFO","msg":"listening","addr":"[::1]:8080"}`, "[::1]:8080", true},
		{`level=INFO msg=listening addr=[::1]:8080`, "[::1]:8080", true},
		{`level=INFO msg=starting addr=127.0.0.1:1977`, "", false},
		{`level=INFO msg=listening`, "", false},
		{`level=INFO msg=listening addr=127.0.0.1`, "", false},
		{`level=INFO msg=listening addr=127.0.0.1:0`, "", false},
		{`level=INFO msg=listening addr=127.0.0.1:99999`, "", false},
		{`level=INFO msg=listening addr=:1977`, "", false},
		{`level=INFO msg=listening peeraddr=127.0.0.1:1977`, "", false},
		{`{"msg":"listening","addr":"127.0.0.1:1977`, "", false},
		{``, "", false},
	}
	for _, tt := range tests {
		got, ok := parseListenAddr(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseListenAddr(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

// TestListenAddrPick: wwly takes serve's plain listener line, wwly-tls its TLS one.
func TestListenAddrPick(t *testing.T) {
	plain := `time=x level=INFO msg=listening addr=127.0.0.1:40123 loops=1`
	tls := `time=x level=INFO msg="listening (TLS)" addr=127.0.0.1:40999 relay_to=127.0.0.1:40123 client_certs=false`
	tests := []struct {
		name string
		pick func(string) (string, bool)
		line string
		want string
		ok   bool
	}{
		{"plain/plain", plainListenAddr, plain, "127.0.0.1:40123", true},
		{"plain/tls", plainListenAddr, tls, "", false},
		{"tls/tls", tlsListenAddr, tls, "127.0.0.1:40999", true},
		{"tls/plain", tlsListenAddr, plain, "", false},
	}
	for _, tt := range tests {
		got, ok := tt.pick(tt.line)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseListenAddr: any line either yields nothing or a HOST:PORT found verbatim in it.
func FuzzParseListenAddr(f *testing.F) {
	f.Add(`level=INFO msg=listening addr=127.0.0.1:40123`)
	f.Add(`{"msg":"listening","addr":"127.0.0.1:1"}`)
	f.Add(`msg=listening addr="[::1]:80" x=y`)
	f.Add(`listening addr=`)
	f.Fuzz(func(t *testing.T, line string) {
		addr, ok := parseListenAddr(line)
		if !ok {
			if addr != "" {
				t.Fatalf("not ok but addr %q", addr)
			}
			return
		}
		if !strings.Contains(line, addr) || !strings.Contains(addr, ":") {
			t.Fatalf("addr %q not a HOST:PORT taken from %q", addr, line)
		}
	})
}

func TestNameFile(t *testing.T) {
	a, b := nameFile("f-", "x/../../etc"), nameFile("f-", "x")
	if a == b || strings.ContainsAny(a, "/.") || len(a) != len("f-")+32 {
		t.Errorf("nameFile: %q, %q", a, b)
	}
}
