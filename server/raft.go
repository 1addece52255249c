package server

// Replicated mode (issue 10, docs/replication.md): the engine runs as the state machine of a
// hashicorp/raft cluster through replica.Node. It is a separate server type chosen at
// construction (`wwly serve --raft-id ...`), so the single-node gnet path has no branch for it.
// Each client connection has a reader goroutine that proposes its requests in order and a
// writer goroutine; committed events reach the connection of their session on this node.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/replica"
	"github.com/wwly/wwly/wire"
)

// Errors of replicated mode.
var (
	// ErrPeers: the --peers list is malformed or does not name this node.
	ErrPeers = errors.New("server: bad peer list")
	// ErrRaft: the raft node could not start.
	ErrRaft = errors.New("server: raft")
)

// Peer is one member of a static cluster: its raft id, raft address and client address.
type Peer struct {
	ID     string
	Raft   string // host:port of raft traffic
	Client string // host:port clients dial; what REDIRECT names
}

// ParsePeers reads "id=raftaddr=clientaddr,..." (the --peers flag).
func ParsePeers(s string) ([]Peer, error) {
	var out []Peer
	seen := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "=")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("%w: %q: want id=raftaddr=clientaddr", ErrPeers, item)
		}
		if seen[parts[0]] {
			return nil, fmt.Errorf("%w: id %q twice", ErrPeers, parts[0])
		}
		seen[parts[0]] = true
		out = append(out, Peer{ID: parts[0], Raft: parts[1], Client: parts[2]})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrPeers)
	}
	return out, nil
}

// RaftConfig is what replicated mode adds to Config (whose DataDir holds the raft stores).
type RaftConfig struct {
	ID        string // this node's raft id; must be in Peers
	Bind      string // raft listen address (Peers' entry for ID when empty)
	Peers     []Peer
	Bootstrap bool // bootstrap the cluster with Peers if this node has no raft state yet
	// HeartbeatTimeout and ElectionTimeout are raft's (leader loss is noticed after about
	// HeartbeatTimeout, an election takes up to ElectionTimeout more).
	HeartbeatTimeout time.Duration
	ElectionTimeout  time.Duration
	// Grace is how long a new leader keeps a session that has no connection to it before it
	// closes the session through the log (its holds pass on). Clients RESUME within it.
	Grace time.Duration
}

// DefaultRaftConfig returns raft's default timeouts and a 15 s grace: longer than the default
// client heartbeat timeout (10 s) plus an election, so a client whose leader's machine vanished
// (no FIN, found out by its heartbeat) still resumes in time.
func DefaultRaftConfig() RaftConfig {
	// 300 ms rather than raft's 1 s: a follower notices a dead leader after 300–600 ms, so the
	// next grant of a held name comes within about a second of a kill -9 (`wwly bench failover`
	// measured a median of 895 ms at 300 ms against 1.9 s at 1 s, docs/replication.md). On a
	// loopback or LAN cluster heartbeats take well under a millisecond; raise both on slow or
	// overloaded links, where a lapsed heartbeat means a needless election.
	return RaftConfig{HeartbeatTimeout: 300 * time.Millisecond, ElectionTimeout: 300 * time.Millisecond, Grace: 15 * time.Second}
}

func (rc RaftConfig) self() (Peer, bool) {
	for _, p := range rc.Peers {
		if p.ID == rc.ID {
			return p, true
		}
	}
	return Peer{}, false
}

// Replicated is a member of a wwly raft cluster. Its methods are safe for concurrent use.
type Replicated struct {
	cfg  Config
	rc   RaftConfig
	log  *slog.Logger
	lim  wire.Limits
	node *replica.Node
	disk *replica.Disk
	ln   net.Listener
	// dirLock keeps a second server off the data dir.
	dirLock *dirLock

	mu       sync.Mutex
	conns    map[engine.SessionID]*rconn // the connection of each session on this node
	all      map[*rconn]struct{}
	missing  map[engine.SessionID]time.Time // leader: open sessions with no connection here, since
	closing  bool
	wg       sync.WaitGroup
	stopOnce sync.Once
	stop     chan struct{}
}

// NewReplicated checks the configuration; Start opens the stores and joins the cluster.
func NewReplicated(cfg Config, rc RaftConfig) (*Replicated, error) {
	cfg.UnsafeTokens = false // tokens come from the replicated counter; the data dir is required
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	self, ok := rc.self()
	if !ok {
		return nil, fmt.Errorf("%w: --raft-id %q is not in --peers", ErrPeers, rc.ID)
	}
	if rc.Bind == "" {
		rc.Bind = self.Raft
	}
	if rc.Grace <= 0 || rc.HeartbeatTimeout <= 0 || rc.ElectionTimeout <= 0 {
		return nil, fmt.Errorf("%w: timeouts and grace must be positive", ErrRaft)
	}
	return &Replicated{cfg: cfg, rc: rc, log: cfg.logger(), lim: cfg.limits(),
		conns: map[engine.SessionID]*rconn{}, all: map[*rconn]struct{}{},
		missing: map[engine.SessionID]time.Time{}, stop: make(chan struct{})}, nil
}

func (s *Replicated) engineConfig() engine.Config {
	ecfg := engine.DefaultConfig()
	ecfg.QueueCap = s.cfg.QueueCap
	ecfg.MaxWaiters = s.cfg.MaxWaiters
	ecfg.MaxName = s.cfg.MaxName
	ecfg.MaxHolds = s.cfg.MaxHolds
	return ecfg
}

// Start opens the raft stores in the data dir, joins the cluster (bootstrapping it when asked
// and new) and listens for clients.
func (s *Replicated) Start() error {
	self, _ := s.rc.self()
	// One server per data dir, as in single-node mode (bbolt would wait for its file lock).
	lock, err := lockDataDir(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	s.dirLock = lock
	disk, err := replica.OpenDisk(filepath.Join(s.cfg.DataDir, "raft"), s.rc.Bind, self.Raft, slogWriter{s.log})
	if err != nil {
		lock.unlock()
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	rcfg := raft.DefaultConfig()
	rcfg.LocalID = raft.ServerID(s.rc.ID)
	rcfg.HeartbeatTimeout = s.rc.HeartbeatTimeout
	rcfg.ElectionTimeout = s.rc.ElectionTimeout
	rcfg.LeaderLeaseTimeout = min(rcfg.LeaderLeaseTimeout, s.rc.HeartbeatTimeout/2)
	rcfg.LogOutput = slogWriter{s.log}
	rcfg.LogLevel = "WARN"
	if s.rc.Bootstrap {
		servers := make([]raft.Server, len(s.rc.Peers))
		for i, p := range s.rc.Peers {
			servers[i] = raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.Raft)}
		}
		if err := replica.Bootstrap(rcfg, disk.Stores, servers); err != nil {
			_ = disk.Close()
			lock.unlock()
			return fmt.Errorf("%w: %w", ErrStart, err)
		}
	}
	ncfg := replica.DefaultConfig()
	ncfg.Engine = s.engineConfig()
	ncfg.OnApplied = s.route
	node, err := replica.NewNode(ncfg, rcfg, disk.Stores)
	if err != nil {
		_ = disk.Close()
		lock.unlock()
		return fmt.Errorf("%w: %w: %w", ErrStart, ErrRaft, err)
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		_ = node.Close()
		_ = disk.Close()
		lock.unlock()
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: %w: %s", ErrStart, ErrAddrInUse, s.cfg.Addr)
		}
		return fmt.Errorf("%w: listen %s: %w", ErrStart, s.cfg.Addr, err)
	}
	s.node, s.disk, s.ln = node, disk, ln
	s.wg.Add(2)
	go s.accept()
	go s.sweep()
	s.log.Info("listening", "addr", ln.Addr().String(), "mode", "replicated", "raft_id", s.rc.ID,
		"raft_addr", self.Raft, "peers", len(s.rc.Peers), "grace", s.rc.Grace)
	return nil
}

// Addr is the client address listened on.
func (s *Replicated) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Node is the replica under the server (raft state, membership, stats).
func (s *Replicated) Node() *replica.Node { return s.node }

// Shutdown stops accepting, closes every connection without closing its session (its client
// resumes it on the next leader), then stops raft and closes the stores.
func (s *Replicated) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	s.closing = true
	conns := make([]*rconn, 0, len(s.all))
	for c := range s.all {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	if s.ln != nil {
		_ = s.ln.Close()
	}
	for _, c := range conns {
		c.fail(wire.CodeShutdown, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	var err error
	if s.node != nil {
		err = errors.Join(s.node.Close(), s.disk.Close())
		s.dirLock.unlock()
	}
	return err
}

func (s *Replicated) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.log.Error("accept", "err", err)
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: do not spin
			continue
		}
		c := newRconn(s, nc)
		s.mu.Lock()
		if s.closing || len(s.all) >= s.cfg.MaxConns {
			s.mu.Unlock()
			_ = nc.Close()
			continue
		}
		s.all[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(2)
		go c.readLoop()
		go c.writeLoop()
	}
}

// leaderClient is the client address of the current leader, "" when none is known.
func (s *Replicated) leaderClient() string {
	_, id := s.node.Raft().LeaderWithID()
	for _, p := range s.rc.Peers {
		if raft.ServerID(p.ID) == id {
			return p.Client
		}
	}
	return ""
}

// route hands the committed events of an entry to the connections of their sessions on this
// node. It runs on raft's FSM goroutine, in log order: it only appends to output buffers.
func (s *Replicated) route(ap *replica.Applied) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		return
	}
	for i := range ap.Results {
		for j := range ap.Results[i].Events {
			ev := &ap.Results[i].Events[j]
			if c := s.conns[ev.Session]; c != nil {
				c.event(ev)
			}
		}
	}
}

// sweep is the leader's liveness check of sessions that have no connection here (their client
// was connected to an earlier leader, or went away): after Grace they are closed through the
// log, so their holds pass on.
func (s *Replicated) sweep() {
	defer s.wg.Done()
	t := time.NewTicker(min(max(s.rc.Grace/8, 10*time.Millisecond), 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.stop:
			return
		}
		if s.node.Raft().State() != raft.Leader {
			s.dropClients()
			continue
		}
		now := time.Now()
		var expired []engine.SessionID
		open := s.node.FSM().Sessions()
		s.mu.Lock()
		seen := make(map[engine.SessionID]bool, len(open))
		for _, id := range open {
			seen[id] = true
			if s.conns[id] != nil {
				delete(s.missing, id)
				continue
			}
			since, ok := s.missing[id]
			if !ok {
				s.missing[id] = now
			} else if now.Sub(since) > s.rc.Grace {
				expired = append(expired, id)
			}
		}
		for id := range s.missing {
			if !seen[id] {
				delete(s.missing, id)
			}
		}
		s.mu.Unlock()
		for _, id := range expired {
			s.closeSession(id, "not resumed within the grace period")
		}
	}
}

// dropClients closes every client connection of a node that does not lead (any more), keeping
// their sessions: a deposed leader must not go on answering PINGs, or its clients would think
// their holds safe while the new leader counts their grace period down. They resume on the
// leader.
func (s *Replicated) dropClients() {
	s.mu.Lock()
	clear(s.missing)
	conns := make([]*rconn, 0, len(s.all))
	for c := range s.all {
		if c.sid != 0 {
			conns = append(conns, c)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.redirect(0)
	}
}

// closeSession closes id through the log (its holds pass on), bounded in time.
func (s *Replicated) closeSession(id engine.SessionID, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.node.CloseSession(ctx, id); err != nil {
		s.log.Warn("close session", "session", uint64(id), "reason", why, "err", err)
		return
	}
	s.mu.Lock()
	delete(s.missing, id)
	s.mu.Unlock()
	s.log.Debug("session closed", "session", uint64(id), "reason", why)
}

// clusterView is this member's view of the cluster, for CLUSTER_REPLY.
func (s *Replicated) clusterView() (wire.ClusterView, []wire.MemberInfo) {
	r := s.node.Raft()
	_, leader := r.LeaderWithID()
	v := wire.ClusterView{ID: []byte(s.rc.ID), Term: r.CurrentTerm(), Commit: r.CommitIndex(),
		Applied: r.AppliedIndex(), Leader: []byte(leader)}
	switch r.State() {
	case raft.Follower:
		v.State = wire.RaftFollower
	case raft.Candidate:
		v.State = wire.RaftCandidate
	case raft.Leader:
		v.State = wire.RaftLeader
	default:
		v.State = wire.RaftShutdown
	}
	members := make([]wire.MemberInfo, 0, len(s.rc.Peers))
	for _, p := range s.rc.Peers {
		members = append(members, wire.MemberInfo{ID: []byte(p.ID), Raft: []byte(p.Raft), Client: []byte(p.Client)})
	}
	return v, members
}

// newSecret is a session's resume secret.
func newSecret() ([]byte, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("server: secret: %w", err)
	}
	return b, nil
}

// slogWriter sends raft's log lines to the server's logger.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.log.Info("raft", "msg", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
