package e2e

// Replicated `wwly serve` (docs/replication.md) as real processes: 3 members on loopback, each
// with its own data dir, killed with SIGKILL and restarted on their data.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
)

// Raft timeouts of the test clusters: short for quick failovers, long enough that a loaded
// 2-core box does not lose its leader by itself (100 ms did, in round 1).
const (
	testHeartbeat = 400 * time.Millisecond
	testElection  = 400 * time.Millisecond
	testGrace     = 4 * time.Second
)

type member struct {
	id, raftAddr, clientAddr, dataDir string
	p                                 *proc
	alive                             bool
}

type procCluster struct {
	t       *testing.T
	members []*member
	peers   string
}

// startProcCluster starts n members, all with the same --peers and --bootstrap (as the bench
// backend does), and waits until one of them leads.
func startProcCluster(t *testing.T, n int) *procCluster {
	t.Helper()
	c := &procCluster{t: t}
	var peers []string
	for i := range n {
		m := &member{id: fmt.Sprintf("n%d", i+1), raftAddr: freeAddr(t), clientAddr: freeAddr(t), dataDir: t.TempDir()}
		c.members = append(c.members, m)
		peers = append(peers, m.id+"="+m.raftAddr+"="+m.clientAddr)
	}
	c.peers = strings.Join(peers, ",")
	for i := range c.members {
		c.start(i)
	}
	c.leader(15 * time.Second)
	return c
}

// addrs is the client address list of every member: what a client is given.
func (c *procCluster) addrs() string {
	var a []string
	for _, m := range c.members {
		a = append(a, m.clientAddr)
	}
	return strings.Join(a, ",")
}

// start runs member i (again) on its data dir and waits until it accepts connections.
func (c *procCluster) start(i int) {
	c.t.Helper()
	m := c.members[i]
	cmd := exec.Command(wwlyBin, "serve", "--addr", m.clientAddr, "--data-dir", m.dataDir,
		"--raft-id", m.id, "--peers", c.peers, "--bootstrap", "--log-level", "warn",
		"--raft-heartbeat-timeout", testHeartbeat.String(), "--raft-election-timeout", testElection.String(),
		"--resume-grace", testGrace.String())
	cmd.Env = os.Environ()
	m.p = start(c.t, cmd)
	m.alive = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-m.p.done:
			c.t.Fatalf("member %s exited early: %v", m.id, m.p.err)
		default:
		}
		conn, err := net.DialTimeout("tcp", m.clientAddr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("member %s not accepting on %s: %v", m.id, m.clientAddr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill9 SIGKILLs member i and reaps it.
func (c *procCluster) kill9(i int) {
	c.t.Helper()
	m := c.members[i]
	_ = m.p.cmd.Process.Signal(syscall.SIGKILL)
	m.p.wait(c.t, 10*time.Second)
	m.alive = false
}

// leader waits (bounded) until a live member answers HELLO with WELCOME, and returns it.
func (c *procCluster) leader(d time.Duration) int {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for i, m := range c.members {
			if m.alive && probeLeader(m.clientAddr) {
				return i
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("no leader within %v", d)
	return -1
}

// probeLeader asks addr for its view (CLUSTER, no session opened): is it the leader?
func probeLeader(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := client.Cluster(ctx, addr)
	return err == nil && info.State == "leader"
}

// dialCluster dials the cluster (any member; redirects lead to the leader), retrying through
// an election, bounded by d. Each try may take 5 s: a client that hangs up on a RESUME it gave
// up on after the leader took it closes the session, as any connection end does.
func dialCluster(ctx context.Context, addrs string, d time.Duration, opts ...client.Option) (*client.Client, error) {
	deadline := time.Now().Add(d)
	opts = append([]client.Option{client.WithDialTimeout(5 * time.Second)}, opts...)
	for {
		cl, err := client.Dial(ctx, addrs, opts...)
		if err == nil || errors.Is(err, client.ErrNoSession) || ctx.Err() != nil || time.Now().After(deadline) {
			return cl, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClusterFollowerRestart: a follower killed with SIGKILL comes back on its data and is a
// full member again: with the other follower then killed, the cluster needs it for a quorum,
// and it has the hold taken before it died and the tokens granted while it was down.
func TestClusterFollowerRestart(t *testing.T) {
	c := startProcCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c1, err := dialCluster(ctx, c.addrs(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	a := c1.Mutex("a")
	if err := a.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	ld := c.leader(5 * time.Second)
	f1, f2 := (ld+1)%3, (ld+2)%3
	c.kill9(f1)
	b := c1.Mutex("b")
	if err := b.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Token() <= a.Token() {
		t.Fatalf("token %#x after %#x", b.Token(), a.Token())
	}
	c.start(f1)
	c.kill9(f2) // from now on no quorum without the restarted follower
	x := c1.Mutex("c")
	if err := x.LockContext(ctx); err != nil {
		t.Fatalf("acquire with the restarted follower as the quorum: %v", err)
	}
	if x.Token() <= b.Token() {
		t.Fatalf("token %#x after %#x", x.Token(), b.Token())
	}
	locks, err := c1.Status(ctx, "a")
	if err != nil || len(locks) != 1 || locks[0].Holder != c1.Session() || locks[0].Token != a.Token() {
		t.Fatalf("status of a: %+v %v; want held by session %d with token %#x", locks, err, c1.Session(), a.Token())
	}
	checkStatusCluster(t, c, c.members[f2].clientAddr)
}

// checkStatusCluster runs `wwly status --cluster --json` against the cluster: every live member
// answers, one of them leads, the dead one is listed as unreachable, and all agree on the leader.
func checkStatusCluster(t *testing.T, c *procCluster, dead string) {
	t.Helper()
	out, err := wwlyCmd(c.addrs(), "status", "--cluster", "--json").Output()
	if err != nil {
		t.Fatalf("wwly status --cluster: %v\n%s", err, out)
	}
	var rows []struct {
		Addr, ID, State, Leader, Error string
		Term, Commit                   uint64
	}
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("wwly status --cluster --json: %v\n%s", err, out)
	}
	leaders, leaderIDs := 0, map[string]bool{}
	for _, r := range rows {
		switch {
		case r.Addr == dead:
			if r.Error == "" {
				t.Errorf("dead member %s answered: %+v", dead, r)
			}
		case r.Error != "":
			t.Errorf("member %s: %s", r.Addr, r.Error)
		default:
			if r.State == "leader" {
				leaders++
			}
			leaderIDs[r.Leader] = true
			if r.Term == 0 || r.Commit == 0 {
				t.Errorf("member %s: term %d commit %d", r.Addr, r.Term, r.Commit)
			}
		}
	}
	if len(rows) != len(c.members) || leaders != 1 || len(leaderIDs) != 1 {
		t.Errorf("status --cluster: %d rows, %d leaders, leader ids %v; want %d rows, 1 leader, 1 id:\n%s", len(rows), leaders, leaderIDs, len(c.members), out)
	}
}

// TestClusterWholeRestart: every member killed with SIGKILL, then all started again on their
// data: a session that resumes within the grace period keeps its hold (released with its
// token), and tokens keep rising.
func TestClusterWholeRestart(t *testing.T) {
	c := startProcCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	c1, err := dialCluster(ctx, c.addrs(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := c1.Mutex("a")
	if err := a.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	sess, secret, tok := c1.Session(), c1.Secret(), a.Token()
	if len(secret) == 0 {
		t.Fatal("WELCOME gave no resume secret")
	}
	for i := range c.members {
		c.kill9(i)
	}
	c1.Close()
	for i := range c.members {
		c.start(i)
	}
	c.leader(15 * time.Second)
	r, err := dialCluster(ctx, c.addrs(), 10*time.Second, client.WithResume(sess, secret))
	if err != nil {
		t.Fatalf("resume after the restart: %v", err)
	}
	defer r.Close()
	if r.Session() != sess {
		t.Fatalf("resumed session %d, want %d", r.Session(), sess)
	}
	if err := r.ReleaseToken(ctx, "a", tok); err != nil {
		t.Fatalf("release of the hold kept across the restart: %v", err)
	}
	b := r.Mutex("a")
	if err := b.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Token() <= tok {
		t.Fatalf("token %#x after the restart, not above %#x", b.Token(), tok)
	}
	// A wrong secret resumes nothing.
	_, err = dialCluster(ctx, c.addrs(), 5*time.Second, client.WithResume(sess, []byte("wrong")))
	if !errors.Is(err, client.ErrNoSession) {
		t.Fatalf("resume with a wrong secret: %v, want ErrNoSession", err)
	}
}
