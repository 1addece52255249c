package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/client"
)

// netnsCluster puts each member in its own network namespace with two links to the root
// namespace: one bridge carries raft traffic, the other client traffic, so a member's raft
// traffic can be cut while its clients still reach it.
type netnsCluster struct {
	procCluster
	k      int // subnet and name suffix
	raftIf []string
}

// ipRun runs `ip args...` and fails the test on error.
func ipRun(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// startNetnsCluster builds the namespaces and links (removed in t.Cleanup, after the members
// are stopped) and starts 3 members in them.
func startNetnsCluster(t *testing.T) *netnsCluster {
	t.Helper()
	k := 20 + os.Getpid()%200
	c := &netnsCluster{procCluster: procCluster{t: t}, k: k}
	rbr, cbr := fmt.Sprintf("wr%d", k), fmt.Sprintf("wc%d", k)
	t.Cleanup(func() {
		for i := 1; i <= 3; i++ {
			_ = exec.Command("ip", "netns", "del", fmt.Sprintf("wwly%dn%d", k, i)).Run()
		}
		_ = exec.Command("ip", "link", "del", rbr).Run()
		_ = exec.Command("ip", "link", "del", cbr).Run()
	})
	ipRun(t, "link", "add", rbr, "type", "bridge")
	ipRun(t, "link", "add", cbr, "type", "bridge")
	ipRun(t, "addr", "add", fmt.Sprintf("10.214.%d.254/24", k), "dev", cbr)
	ipRun(t, "link", "set", rbr, "up")
	ipRun(t, "link", "set", cbr, "up")
	var peers []string
	for i := 1; i <= 3; i++ {
		ns := fmt.Sprintf("wwly%dn%d", k, i)
		ipRun(t, "netns", "add", ns)
		ipRun(t, "-n", ns, "link", "set", "lo", "up")
		for _, l := range []struct{ kind, br, net string }{{"r", rbr, "213"}, {"c", cbr, "214"}} {
			host, peer := fmt.Sprintf("%s%dh%d", l.kind, k, i), fmt.Sprintf("%s%dp%d", l.kind, k, i)
			ipRun(t, "link", "add", host, "type", "veth", "peer", "name", peer)
			ipRun(t, "link", "set", host, "master", l.br)
			ipRun(t, "link", "set", host, "up")
			ipRun(t, "link", "set", peer, "netns", ns)
			ipRun(t, "-n", ns, "addr", "add", fmt.Sprintf("10.%s.%d.%d/24", l.net, k, i), "dev", peer)
			ipRun(t, "-n", ns, "link", "set", peer, "up")
			if l.kind == "r" {
				c.raftIf = append(c.raftIf, host)
			}
		}
		m := &member{id: fmt.Sprintf("n%d", i), raftAddr: fmt.Sprintf("10.213.%d.%d:7000", k, i),
			clientAddr: fmt.Sprintf("10.214.%d.%d:7001", k, i), dataDir: t.TempDir()}
		c.members = append(c.members, m)
		peers = append(peers, m.id+"="+m.raftAddr+"="+m.clientAddr)
	}
	c.peers = strings.Join(peers, ",")
	for i := range c.members {
		c.startIn(i)
	}
	c.leader(15 * time.Second)
	return c
}

// startIn runs member i in its namespace; client heartbeats are short so that clients cut off
// from their leader notice within the grace period.
func (c *netnsCluster) startIn(i int) {
	c.t.Helper()
	m := c.members[i]
	cmd := exec.Command("ip", "netns", "exec", fmt.Sprintf("wwly%dn%d", c.k, i+1), wwlyBin, "serve",
		"--addr", m.clientAddr, "--data-dir", m.dataDir, "--raft-id", m.id, "--peers", c.peers, "--bootstrap",
		"--log-level", "warn", "--raft-heartbeat-timeout", testHeartbeat.String(),
		"--raft-election-timeout", testElection.String(), "--resume-grace", testGrace.String(),
		"--heartbeat-interval", "200ms", "--heartbeat-timeout", "1s")
	cmd.Env = os.Environ()
	m.p = start(c.t, cmd)
	m.alive = true
	c.waitAccepting(m)
}

func (c *netnsCluster) waitAccepting(m *member) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := client.Cluster(ctx, m.clientAddr)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-m.p.done:
			c.t.Fatalf("member %s exited early: %v", m.id, m.p.err)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("member %s not answering on %s: %v", m.id, m.clientAddr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cutRaft takes member i's raft link down (on), or up again.
func (c *netnsCluster) cutRaft(i int, on bool) {
	state := "up"
	if on {
		state = "down"
	}
	ipRun(c.t, "link", "set", c.raftIf[i], state)
}

// TestClusterPartitionedLeader: the leader's raft traffic is cut while its clients still reach
// it. It never grants again (an ACQUIRE of a free name sent to it fails, it cannot commit), the
// other two elect a leader, the old leader's client that held a name resumes there and
// releases it with its token, and once the link is back the old leader follows.
// Needs root (network namespaces); CI runs as root.
func TestClusterPartitionedLeader(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root; CI runs this as root")
	}
	c := startNetnsCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	old := c.leader(5 * time.Second)
	oldAddr := c.members[old].clientAddr
	holder, err := dialCluster(ctx, oldAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	a := holder.Mutex("a")
	if err := a.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	asker, err := dialCluster(ctx, oldAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer asker.Close()
	cutAt := time.Now()
	c.cutRaft(old, true)
	actx, acancel := context.WithTimeout(ctx, 5*time.Second)
	err = asker.Mutex("b").LockContext(actx)
	acancel()
	if err == nil {
		t.Fatal("the partitioned leader granted b")
	}
	t.Logf("acquire on the partitioned leader: %v", err)
	c.members[old].alive = false // not a candidate for leader() while cut off
	nl := c.leader(10 * time.Second)
	t.Logf("cut to new leader %s: %v", c.members[nl].id, time.Since(cutAt).Round(time.Millisecond))
	// The holder's connection was closed by the deposed leader (or its heartbeat failed): it
	// resumes on the new leader and releases its hold there.
	select {
	case <-holder.Done():
	case <-ctx.Done():
		t.Fatal("the deposed leader kept its client connected")
	}
	r, err := dialCluster(ctx, c.addrs(), 10*time.Second, client.WithResume(holder.Session(), holder.Secret()))
	if err != nil {
		t.Fatalf("resume on the new leader: %v", err)
	}
	defer r.Close()
	if err := r.ReleaseToken(ctx, "a", a.Token()); err != nil {
		t.Fatalf("release of the hold taken on the old leader: %v", err)
	}
	b := r.Mutex("b")
	if err := b.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Token() <= a.Token() {
		t.Fatalf("token %#x on the new leader, not above %#x", b.Token(), a.Token())
	}
	c.cutRaft(old, false)
	c.members[old].alive = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		ictx, icancel := context.WithTimeout(ctx, time.Second)
		info, err := client.Cluster(ictx, oldAddr)
		icancel()
		if err == nil && info.State == "follower" && info.Leader != "" && info.Leader != c.members[old].id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old leader after the heal: %+v %v; want a follower of the new leader", info, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
