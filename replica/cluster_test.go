package replica

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// cluster is n Nodes in one process over raft's in-memory transport and stores: the twin of
// the networked cluster (same Node, same FSM; only the Stores differ).
type cluster struct {
	t      testing.TB
	nodes  []*Node
	trans  []*raft.InmemTransport
	addrs  []raft.ServerAddress
	stores []*raft.InmemStore // kept across a restart, as a disk would be
	snaps  []*raft.InmemSnapshotStore
	tweak  func(*raft.Config)
	mu     sync.Mutex // guards killed and nodes' entries during a restart
	killed []bool
}

// testRaftConfig is raft's default with short timeouts: failover within a few hundred ms.
func testRaftConfig(id int) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(fmt.Sprintf("n%d", id))
	rc.HeartbeatTimeout = 100 * time.Millisecond
	rc.ElectionTimeout = 100 * time.Millisecond
	rc.LeaderLeaseTimeout = 50 * time.Millisecond
	rc.CommitTimeout = 5 * time.Millisecond
	rc.LogOutput = io.Discard
	rc.LogLevel = "ERROR"
	return rc
}

func newCluster(t testing.TB, n int, tweak func(*raft.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, killed: make([]bool, n), tweak: tweak}
	var servers []raft.Server
	for i := range n {
		addr, tr := raft.NewInmemTransport(raft.ServerAddress(fmt.Sprintf("n%d", i)))
		c.addrs, c.trans = append(c.addrs, addr), append(c.trans, tr)
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprintf("n%d", i)), Address: addr})
	}
	for i := range n {
		for j := range n {
			if i != j {
				c.trans[i].Connect(c.addrs[j], c.trans[j])
			}
		}
	}
	for i := range n {
		c.stores = append(c.stores, raft.NewInmemStore())
		c.snaps = append(c.snaps, raft.NewInmemSnapshotStore())
		c.nodes = append(c.nodes, c.start(i))
	}
	if err := c.nodes[0].Raft().BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	return c
}

// start runs node i over its stores and transport.
func (c *cluster) start(i int) *Node {
	rc := testRaftConfig(i)
	if c.tweak != nil {
		c.tweak(rc)
	}
	nd, err := NewNode(DefaultConfig(), rc, Stores{Logs: c.stores[i], Stable: c.stores[i],
		Snapshots: c.snaps[i], Transport: c.trans[i]})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = nd.Close() })
	return nd
}

// restart brings the killed node i back with the stores it had, on a new transport.
func (c *cluster) restart(i int) {
	addr, tr := raft.NewInmemTransport(c.addrs[i])
	c.trans[i] = tr
	for j := range c.nodes {
		if j != i {
			tr.Connect(c.addrs[j], c.trans[j])
			c.trans[j].Connect(addr, tr)
		}
	}
	nd := c.start(i)
	c.mu.Lock()
	c.nodes[i], c.killed[i] = nd, false
	c.mu.Unlock()
}

// leader waits (bounded) for a live node that leads and returns its index.
func (c *cluster) leader(timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, nd := range c.nodes {
			if !c.killed[i] && nd.Raft().State() == raft.Leader {
				c.mu.Unlock()
				return i, nil
			}
		}
		c.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	return -1, fmt.Errorf("no leader within %v", timeout)
}

// kill stops node i as a crash would: raft stops and its peers can no longer reach it.
func (c *cluster) kill(i int) {
	c.mu.Lock()
	c.killed[i] = true
	c.mu.Unlock()
	if err := c.nodes[i].Close(); err != nil {
		c.t.Errorf("close node %d: %v", i, err)
	}
	_ = c.trans[i].Close()
	for j := range c.nodes {
		if j != i {
			c.trans[j].Disconnect(c.addrs[i])
		}
	}
}

// isolate cuts node i off from the others (both directions) or, with on false, reconnects it.
func (c *cluster) isolate(i int, on bool) {
	for j := range c.nodes {
		if j == i {
			continue
		}
		if on {
			c.trans[i].Disconnect(c.addrs[j])
			c.trans[j].Disconnect(c.addrs[i])
		} else {
			c.trans[i].Connect(c.addrs[j], c.trans[j])
			c.trans[j].Connect(c.addrs[i], c.trans[i])
		}
	}
}

// ctx returns a context bounded by timeout and cancelled at the test's end.
func testCtx(t *testing.T, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
