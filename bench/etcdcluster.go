//go:build !wwlylean

package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// envEtcd3 is the StartOptions.Addrs key of a running etcd cluster given to etcd3 (comma-separated
// endpoints). Workers get the endpoints under envEtcd, so the etcd backend's client code serves both.
const envEtcd3 = "etcd3"

// etcd3Backend is etcd's concurrency.Mutex, as the etcd backend drives it, on a 3-member etcd
// cluster on loopback: a replicated lock beside which wwly-raft is measured. Workers talk to
// all three endpoints (the client balances across them and fails over).
type etcd3Backend struct{}

func (etcd3Backend) Name() string    { return "etcd3" }
func (etcd3Backend) Exclusive() bool { return true }
func (etcd3Backend) Tokens() bool    { return true }

// Start runs three etcd members on free loopback ports, data dirs under opts.Dir, and waits
// until the cluster has a leader; or uses opts.Addrs["etcd3"].
func (etcd3Backend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	if a := opts.Addrs[envEtcd3]; a != "" {
		return &procInstance{env: Env{envEtcd: a}}, nil
	}
	return startEtcdCluster(ctx, opts, "etcd3", clusterSize)
}

// Connect is the etcd backend's: one Session per worker, over every endpoint of the cluster.
func (etcd3Backend) Connect(ctx context.Context, env Env) (Client, error) {
	return etcdBackend{}.Connect(ctx, env)
}

// etcdCluster is a started 3-member etcd. Stop is safe to call more than once.
type etcdCluster struct {
	procs     []*serverProc
	endpoints []string // client endpoints, HOST:PORT, in member order
}

var _ clusterInstance = (*etcdCluster)(nil)

func (c *etcdCluster) Env() Env { return Env{envEtcd: strings.Join(c.endpoints, ",")} }

// ServerPID is the first member's pid (the RSS report shows one member).
func (c *etcdCluster) ServerPID() int { return c.procs[0].pid() }

func (c *etcdCluster) Stop() error { return stopAll(c.procs) }

func (c *etcdCluster) Members() int { return len(c.procs) }

// Kill sends SIGKILL to member i: no goodbye to its peers or clients.
func (c *etcdCluster) Kill(i int) error {
	if err := syscall.Kill(c.procs[i].pid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("bench: etcd3: kill member %d: %w", i, err)
	}
	return nil
}

// Leader asks each member's status and returns the index of the one that says it leads.
func (c *etcdCluster) Leader(ctx context.Context) (int, error) {
	cl, err := newEtcdClient(ctx, strings.Join(c.endpoints, ","))
	if err != nil {
		return 0, fmt.Errorf("bench: etcd3 leader: %w", err)
	}
	defer cl.Close()
	var errs []error
	for i, ep := range c.endpoints {
		if c.procs[i].exited() {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, time.Second) // a dead member must not hold the search up
		st, err := cl.Status(sctx, ep)
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if st.Leader != 0 && st.Leader == st.Header.GetMemberId() {
			return i, nil
		}
	}
	return 0, fmt.Errorf("bench: etcd3: %w (%w)", errNoLeader, errors.Join(errs...))
}

// etcdMemberArgs are member i's flags; clientURLs and peerURLs are every member's.
func etcdMemberArgs(dir string, i int, clientURLs, peerURLs []string) []string {
	initial := make([]string, len(peerURLs))
	for j, u := range peerURLs {
		initial[j] = "m" + strconv.Itoa(j) + "=" + u
	}
	return []string{
		"--name", "m" + strconv.Itoa(i),
		"--data-dir", filepath.Join(dir, "data-m"+strconv.Itoa(i)),
		"--listen-client-urls", clientURLs[i], "--advertise-client-urls", clientURLs[i],
		"--listen-peer-urls", peerURLs[i], "--initial-advertise-peer-urls", peerURLs[i],
		"--initial-cluster", strings.Join(initial, ","),
		"--initial-cluster-token", "wwly-bench-" + filepath.Base(dir),
		"--initial-cluster-state", "new",
		"--logger", "zap", "--log-level", "warn",
	}
}

// startEtcdCluster starts size members (the etcd backend runs one, etcd3 clusterSize) on free
// loopback ports, data dirs under opts.Dir, retrying the whole cluster on fresh ports when a
// member died before the cluster served (a port taken meanwhile, most likely). label names the
// backend in errors, process logs and data dirs.
func startEtcdCluster(ctx context.Context, opts StartOptions, label string, size int) (*etcdCluster, error) {
	bin, err := lookBinary("etcd")
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, fmt.Errorf("bench: %s: StartOptions.Dir is empty", label)
	}
	var lastErr error
	for attempt := range startAttempts {
		ports, err := freePorts(2 * size)
		if err != nil {
			return nil, err
		}
		c := &etcdCluster{}
		var clientURLs, peerURLs []string
		for i := range size {
			c.endpoints = append(c.endpoints, "127.0.0.1:"+strconv.Itoa(ports[2*i]))
			clientURLs = append(clientURLs, "http://"+c.endpoints[i])
			peerURLs = append(peerURLs, "http://127.0.0.1:"+strconv.Itoa(ports[2*i+1]))
		}
		dir := filepath.Join(opts.Dir, label+"-"+strconv.Itoa(attempt))
		lastErr = c.start(ctx, bin, dir, label, clientURLs, peerURLs)
		if lastErr == nil {
			return c, nil
		}
		_ = c.Stop()
		if !errors.Is(lastErr, errServerExited) {
			return nil, lastErr
		}
	}
	return nil, fmt.Errorf("bench: %s did not start after %d attempts: %w", label, startAttempts, lastErr)
}

// start runs every member, then waits for a linearizable read through all endpoints (it needs
// an elected leader). On error the caller stops whatever started.
func (c *etcdCluster) start(ctx context.Context, bin, dir, label string, clientURLs, peerURLs []string) error {
	if err := mkdirAll(dir); err != nil {
		return fmt.Errorf("bench: %s: %w", label, err)
	}
	for i := range clientURLs {
		p, err := startProc(label+"-m"+strconv.Itoa(i), bin, etcdMemberArgs(dir, i, clientURLs, peerURLs), dir, nil)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
	}
	all := strings.Join(c.endpoints, ",")
	for _, p := range c.procs {
		// Each member is probed through all endpoints: the wait ends early with errServerExited
		// when this member dies, and a Get succeeds only once the cluster has a leader.
		if err := p.waitReady(ctx, etcdProbe(all)); err != nil {
			return err
		}
	}
	return nil
}
