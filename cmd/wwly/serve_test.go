package main

import (
	"errors"
	"testing"

	"github.com/wwly/wwly/engine"
)

func TestDefaultDataDir(t *testing.T) {
	cases := []struct {
		name string
		addr string
		env  map[string]string
		want string
		err  error
	}{
		{"explicit env wins", "127.0.0.1:0", map[string]string{"WWLY_DATA_DIR": "/srv/wwly", "HOME": "/home/u"}, "/srv/wwly", nil},
		{"xdg state", "127.0.0.1:1977", map[string]string{"XDG_STATE_HOME": "/st", "HOME": "/home/u"}, "/st/wwly/127.0.0.1_1977", nil},
		{"home", "127.0.0.1:1977", map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/wwly/127.0.0.1_1977", nil},
		{"relative xdg ignored", "localhost:9", map[string]string{"XDG_STATE_HOME": "st", "HOME": "/h"}, "/h/.local/state/wwly/localhost_9", nil},
		{"ipv6", "[::1]:1977", map[string]string{"HOME": "/h"}, "/h/.local/state/wwly/__1_1977", nil},
		{"any host", ":1977", map[string]string{"HOME": "/h"}, "/h/.local/state/wwly/any_1977", nil},
		{"port 0", "127.0.0.1:0", map[string]string{"HOME": "/h"}, "", errNoDefaultDataDir},
		{"no home", "127.0.0.1:1977", map[string]string{}, "", errNoDefaultDataDir},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := defaultDataDir(tt.addr, func(k string) string { return tt.env[k] })
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("defaultDataDir(%q) = %q, %v; want %q, %v", tt.addr, got, err, tt.want, tt.err)
			}
		})
	}
}

// TestServeHandoffFlag: --handoff parses into server.Config.Handoff; a bad value is a usage error.
func TestServeHandoffFlag(t *testing.T) {
	cases := []struct {
		argv []string
		want int // Handoff.Barge
		err  bool
	}{
		{nil, 0, false},
		{[]string{"--handoff", "fifo"}, 0, false},
		{[]string{"--handoff=barge:8"}, 8, false},
		{[]string{"--handoff", "barge:0"}, 0, true},
		{[]string{"--handoff", "lifo"}, 0, true},
	}
	for _, tt := range cases {
		cmd := newServeCmd()
		err := cmd.Flags().Parse(tt.argv)
		if (err != nil) != tt.err {
			t.Fatalf("%v: error %v, want error %v", tt.argv, err, tt.err)
		}
		if got := cmd.Flags().Lookup("handoff").Value.String(); err == nil && got != engine.Handoff(handoffValue{Barge: tt.want}).String() {
			t.Fatalf("%v: --handoff = %s, want barge %d", tt.argv, got, tt.want)
		}
	}
}
