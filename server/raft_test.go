package server

import (
	"errors"
	"reflect"
	"testing"
)

func TestParsePeers(t *testing.T) {
	tests := []struct {
		in   string
		want []Peer
		err  bool
	}{
		{"n1=127.0.0.1:1978=127.0.0.1:1977", []Peer{{"n1", "127.0.0.1:1978", "127.0.0.1:1977"}}, false},
		{" a=h:1=h:2 , b=h:3=h:4,", []Peer{{"a", "h:1", "h:2"}, {"b", "h:3", "h:4"}}, false},
		{"", nil, true},
		{"n1=h:1", nil, true},
		{"n1=h:1=h:2=x", nil, true},
		{"=h:1=h:2", nil, true},
		{"a=h:1=h:2,a=h:3=h:4", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePeers(tt.in)
		if (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrPeers)) {
			t.Errorf("ParsePeers(%q) error = %v, want error %v (ErrPeers)", tt.in, err, tt.err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePeers(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestNewReplicatedChecks: the member must be in the peer list, and the timeouts positive.
func TestNewReplicatedChecks(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	peers, err := ParsePeers("n1=127.0.0.1:1=127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	rc := DefaultRaftConfig()
	rc.Peers = peers
	rc.ID = "n9"
	if _, err := NewReplicated(cfg, rc); !errors.Is(err, ErrPeers) {
		t.Errorf("id not in peers: %v, want ErrPeers", err)
	}
	rc.ID = "n1"
	rc.Grace = 0
	if _, err := NewReplicated(cfg, rc); !errors.Is(err, ErrRaft) {
		t.Errorf("zero grace: %v, want ErrRaft", err)
	}
	rc.Grace = DefaultRaftConfig().Grace
	if _, err := NewReplicated(cfg, rc); err != nil {
		t.Errorf("valid: %v", err)
	}
}
