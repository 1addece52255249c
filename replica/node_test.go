package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{"default", func(*Config) {}, true},
		{"no batch", func(c *Config) { c.MaxBatch = 0 }, false},
		{"batch too big", func(c *Config) { c.MaxBatch = MaxCommands + 1 }, false},
		{"no inflight", func(c *Config) { c.MaxInflight = 0 }, false},
		{"no tick", func(c *Config) { c.TickEvery = 0 }, false},
		{"bad engine", func(c *Config) { c.Engine.MaxName = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			if err := c.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestNewNodeRejectsBatchApplyCh(t *testing.T) {
	rc := testRaftConfig(0)
	rc.BatchApplyCh = true
	store := raft.NewInmemStore()
	_, tr := raft.NewInmemTransport("")
	_, err := NewNode(DefaultConfig(), rc, Stores{Logs: store, Stable: store, Snapshots: raft.NewInmemSnapshotStore(), Transport: tr})
	if !errors.Is(err, ErrBatchApplyCh) {
		t.Fatalf("NewNode: %v, want ErrBatchApplyCh", err)
	}
}

func TestDoNeedsAnAnswer(t *testing.T) {
	c := newCluster(t, 1, nil)
	for _, op := range []Op{OpOpenSession, OpCloseSession, OpTick} {
		if _, err := c.nodes[0].Do(testCtx(t, time.Second), Command{Op: op}); !errors.Is(err, ErrNoAnswer) {
			t.Errorf("Do(%v): %v, want ErrNoAnswer", op, err)
		}
	}
}

// A one-node cluster in memory: open a session, take a lock, release it. Each answer exists
// only once raft has committed the entry that caused it.
func ExampleNode() {
	rc := raft.DefaultConfig()
	rc.LocalID = "n0"
	rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
	rc.LogLevel = "OFF"
	addr, tr := raft.NewInmemTransport("n0")
	store := raft.NewInmemStore()
	nd, err := NewNode(DefaultConfig(), rc, Stores{Logs: store, Stable: store, Snapshots: raft.NewInmemSnapshotStore(), Transport: tr})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nd.Close()
	_ = nd.Raft().BootstrapCluster(raft.Configuration{Servers: []raft.Server{{ID: "n0", Address: addr}}}).Error()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var s engine.SessionID
	for ctx.Err() == nil { // until the node has elected itself
		if s, err = nd.OpenSession(ctx, []byte("secret")); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ev, err := nd.Do(ctx, Command{Op: OpAcquire, Session: s, Req: 1, Name: []byte("job"), Wait: -1})
	fmt.Println(ev.Kind, string(ev.Name), ev.Token == 1<<engine.CounterBits|1, err)
	ev, err = nd.Do(ctx, Command{Op: OpRelease, Session: s, Req: 2, Name: []byte("job"), Token: ev.Token})
	fmt.Println(ev.Kind, err)
	// Output:
	// Granted job true <nil>
	// Done <nil>
}
