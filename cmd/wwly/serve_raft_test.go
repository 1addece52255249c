package main

import (
	"errors"
	"testing"

	"github.com/wwly/wwly/server"
)

func TestRaftFlagsConfig(t *testing.T) {
	peers := "n1=127.0.0.1:1978=127.0.0.1:1977,n2=127.0.0.1:2978=127.0.0.1:2977"
	cases := []struct {
		name      string
		id, peers string
		on        bool
		err       error
	}{
		{"single-node", "", "", false, errRaftFlags},
		{"id without peers", "n1", "", true, errRaftFlags},
		{"peers without id", "", peers, true, errRaftFlags},
		{"bad peers", "n1", "n1=x", true, server.ErrPeers},
		{"ok", "n2", peers, true, nil},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			r := raftFlags{id: tt.id, peers: tt.peers, bootstrap: true, rc: server.DefaultRaftConfig()}
			if r.on() != tt.on {
				t.Fatalf("on() = %v, want %v", r.on(), tt.on)
			}
			rc, err := r.config()
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("config() error = %v, want %v", err, tt.err)
			}
			if err == nil && (rc.ID != "n2" || len(rc.Peers) != 2 || !rc.Bootstrap || rc.Grace != server.DefaultRaftConfig().Grace) {
				t.Fatalf("config() = %+v", rc)
			}
		})
	}
}
