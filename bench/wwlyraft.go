package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wwly/wwly/client"
)

// envWwlyRaft is the Env key holding the client addresses of a replicated wwly cluster,
// comma-separated (client.Dial takes the list and follows redirects to the leader).
const envWwlyRaft = "wwly-raft"

// raftProbeName is the lock name the readiness and leader probes take and release.
const raftProbeName = "wwly-bench-probe"

// wwlyRaftBackend is wwly replicated over Raft: three `wwly serve --raft-id ...` processes on
// loopback, driven through the same Go client as wwly with the list of all three addresses.
type wwlyRaftBackend struct{}

func (wwlyRaftBackend) Name() string    { return "wwly-raft" }
func (wwlyRaftBackend) Exclusive() bool { return true }
func (wwlyRaftBackend) Tokens() bool    { return true }

// Start runs three servers on free loopback client and Raft ports, each with its own data dir
// under opts.Dir, all given the same --peers and --bootstrap, and waits until a lock can be
// taken through the address list (a leader is elected); or uses opts.Addrs["wwly-raft"].
func (wwlyRaftBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	if a := opts.Addrs[envWwlyRaft]; a != "" {
		return &procInstance{env: Env{envWwlyRaft: a}}, nil
	}
	bin, err := wwlyBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		return nil, fmt.Errorf("bench: wwly-raft: StartOptions.Dir is empty")
	}
	var lastErr error
	for attempt := range startAttempts {
		ports, err := freePorts(2 * clusterSize)
		if err != nil {
			return nil, err
		}
		c := newRaftCluster(ports)
		dir := filepath.Join(opts.Dir, "wwly-raft-"+strconv.Itoa(attempt))
		lastErr = c.start(ctx, bin, dir, opts.ServerArgs)
		if lastErr == nil {
			return c, nil
		}
		_ = c.Stop()
		if !errors.Is(lastErr, errServerExited) {
			return nil, lastErr
		}
	}
	return nil, fmt.Errorf("bench: wwly-raft did not start after %d attempts: %w", startAttempts, lastErr)
}

// wwlyBinary is bin, or this executable when bin is empty; ErrUnavailable when it is missing.
func wwlyBinary(bin string) (string, error) {
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("%w: wwly: no binary given and os.Executable: %v", ErrUnavailable, err)
		}
		bin = exe
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%w: wwly binary %s: %v; run make build", ErrUnavailable, bin, err)
	}
	return bin, nil
}

func (wwlyRaftBackend) Connect(ctx context.Context, env Env) (Client, error) {
	addrs := env[envWwlyRaft]
	if addrs == "" {
		return nil, fmt.Errorf("bench: wwly-raft: env has no %q addresses", envWwlyRaft)
	}
	return dialRaft(ctx, addrs)
}

// raftCluster is a started 3-server wwly cluster. Stop is safe to call more than once.
type raftCluster struct {
	procs       []*serverProc
	clientAddrs []string // HOST:PORT in member order
	raftAddrs   []string
}

var _ clusterInstance = (*raftCluster)(nil)

// newRaftCluster lays out members on ports: client port 2i, Raft port 2i+1 for member i.
func newRaftCluster(ports []int) *raftCluster {
	c := &raftCluster{}
	for i := 0; i+1 < len(ports); i += 2 {
		c.clientAddrs = append(c.clientAddrs, "127.0.0.1:"+strconv.Itoa(ports[i]))
		c.raftAddrs = append(c.raftAddrs, "127.0.0.1:"+strconv.Itoa(ports[i+1]))
	}
	return c
}

// peersFlag is the --peers value every member gets: id=raftaddr=clientaddr, comma-separated.
func (c *raftCluster) peersFlag() string {
	peers := make([]string, len(c.raftAddrs))
	for i := range c.raftAddrs {
		peers[i] = raftID(i) + "=" + c.raftAddrs[i] + "=" + c.clientAddrs[i]
	}
	return strings.Join(peers, ",")
}

func raftID(i int) string { return "n" + strconv.Itoa(i) }

// memberArgs are member i's `serve` arguments; extra (tunables) come last.
func (c *raftCluster) memberArgs(dir string, i int, extra []string) []string {
	return slices.Concat([]string{"serve",
		"--addr", c.clientAddrs[i],
		"--data-dir", filepath.Join(dir, "data-"+raftID(i)),
		"--raft-id", raftID(i),
		"--raft-addr", c.raftAddrs[i],
		"--peers", c.peersFlag(),
		"--bootstrap",
	}, extra)
}

// start runs every member, waits until each accepts connections, then until a lock can be taken
// and released through the address list. On error the caller stops whatever started.
func (c *raftCluster) start(ctx context.Context, bin, dir string, extra []string) error {
	if err := mkdirAll(dir); err != nil {
		return fmt.Errorf("bench: wwly-raft: %w", err)
	}
	for i := range c.clientAddrs {
		p, err := startProc("wwly-raft-"+raftID(i), bin, c.memberArgs(dir, i, extra), dir, nil)
		if err != nil {
			return err
		}
		c.procs = append(c.procs, p)
	}
	for i, p := range c.procs {
		if err := p.waitReady(ctx, dialProbe(c.clientAddrs[i])); err != nil {
			return err
		}
	}
	return c.procs[0].waitReady(ctx, func(pctx context.Context) error {
		return lockProbe(pctx, strings.Join(c.clientAddrs, ","))
	})
}

// lockProbe dials addrs (the client follows redirects to the leader), then takes and releases
// raftProbeName.
func lockProbe(ctx context.Context, addrs string) error {
	cl, err := client.Dial(ctx, addrs)
	if err != nil {
		return err
	}
	defer cl.Close()
	m := cl.Mutex(raftProbeName)
	if ok, err := m.TryLockContext(ctx); err != nil || !ok {
		return errors.Join(fmt.Errorf("probe lock not taken (ok=%v)", ok), err)
	}
	return m.Release()
}

func (c *raftCluster) Env() Env { return Env{envWwlyRaft: strings.Join(c.clientAddrs, ",")} }

// ServerPID is the first member's pid (the RSS report shows one member).
func (c *raftCluster) ServerPID() int { return c.procs[0].pid() }

func (c *raftCluster) Stop() error { return stopAll(c.procs) }

func (c *raftCluster) Members() int { return len(c.procs) }

// Kill sends SIGKILL to member i.
func (c *raftCluster) Kill(i int) error {
	if err := syscall.Kill(c.procs[i].pid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("bench: wwly-raft: kill member %d: %w", i, err)
	}
	return nil
}

// leaderProbeTimeout bounds one member's answer to a leader probe.
const leaderProbeTimeout = time.Second

// Leader asks each live member for its view of the cluster (CLUSTER, answered without a
// session) and returns the one that says it leads.
func (c *raftCluster) Leader(ctx context.Context) (int, error) {
	var errs []error
	for i, a := range c.clientAddrs {
		if c.procs[i].exited() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, leaderProbeTimeout)
		info, err := client.Cluster(pctx, a)
		cancel()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if info.State == "leader" {
			return i, nil
		}
	}
	return 0, fmt.Errorf("bench: wwly-raft: %w (%w)", errNoLeader, errors.Join(errs...))
}
