package client

import (
	"context"
	"fmt"
	"time"

	"github.com/wwly/wwly/wire"
)

// ClusterInfo is one member's view of its replicated cluster (Cluster).
type ClusterInfo struct {
	Addr    string // the address asked
	ID      string // the member's raft id
	State   string // "follower", "candidate", "leader" or "shutdown"
	Term    uint64
	Commit  uint64 // commit index
	Applied uint64 // last index applied to the engine on this member
	Leader  string // the leader's raft id; "" when none is known
	Members []Member
}

// Member is one configured member of a cluster.
type Member struct {
	ID, Raft, Client string
}

var raftStates = map[uint8]string{wire.RaftFollower: "follower", wire.RaftCandidate: "candidate",
	wire.RaftLeader: "leader", wire.RaftShutdown: "shutdown"}

// Cluster asks the member at addr (one address) for its view of the cluster, without opening a
// session: any member answers, leader or not. A single-node server closes the connection
// (ErrProtocol or ErrClosed).
func Cluster(ctx context.Context, addr string, opts ...Option) (ClusterInfo, error) {
	o := options{dialTimeout: 5 * time.Second, ioMode: IONetConn, limits: wire.DefaultLimits()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
		defer cancel()
	}
	t, err := dialWith(ctx, addr, &o)
	if err != nil {
		return ClusterInfo{}, &dialError{addr: addr, err: err}
	}
	defer t.Close()
	stop := context.AfterFunc(ctx, func() { t.Close() })
	defer stop()
	if _, err := t.Write(wire.AppendCluster(nil, 1, o.auth)); err != nil {
		return ClusterInfo{}, fmt.Errorf("cluster %s: %w: %w", addr, ErrClosed, err)
	}
	f, err := wire.NewReader(t, o.limits).Next()
	if err != nil {
		if ctx.Err() != nil {
			return ClusterInfo{}, fmt.Errorf("cluster %s: %w (%w)", addr, ErrTimeout, ctx.Err())
		}
		return ClusterInfo{}, fmt.Errorf("cluster %s: %w: %w", addr, ErrClosed, err)
	}
	switch f.Type {
	case wire.ClusterReply:
	case wire.Error:
		return ClusterInfo{}, fmt.Errorf("cluster %s: %w", addr, replyError(f.Code, string(f.Msg)))
	default:
		return ClusterInfo{}, fmt.Errorf("cluster %s: %w: unexpected %v", addr, ErrProtocol, f.Type)
	}
	v := f.View
	info := ClusterInfo{Addr: addr, ID: string(v.ID), State: raftStates[v.State], Term: v.Term,
		Commit: v.Commit, Applied: v.Applied, Leader: string(v.Leader)}
	if info.State == "" {
		info.State = fmt.Sprintf("state(%d)", v.State)
	}
	for _, m := range f.Members {
		info.Members = append(info.Members, Member{ID: string(m.ID), Raft: string(m.Raft), Client: string(m.Client)})
	}
	return info, nil
}
