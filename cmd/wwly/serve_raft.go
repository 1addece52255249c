package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/wwly/wwly/server"
)

// raftFlags are the replicated-mode flags of `wwly serve` (docs/replication.md). Without
// --raft-id the server runs single-node, as before.
type raftFlags struct {
	id        string
	addr      string
	peers     string
	bootstrap bool
	rc        server.RaftConfig
}

func (r *raftFlags) register(f *pflag.FlagSet) {
	r.rc = server.DefaultRaftConfig()
	f.StringVar(&r.id, "raft-id", "", "replicated mode: this member's id in --peers (none = single-node server)")
	f.StringVar(&r.addr, "raft-addr", "", "replicated mode: host:port to listen on for raft traffic (default: this member's raft address in --peers)")
	f.StringVar(&r.peers, "peers", "", "replicated mode: every member as id=raftaddr=clientaddr, comma-separated (the same list on every member)")
	f.BoolVar(&r.bootstrap, "bootstrap", false, "replicated mode: make --peers the first configuration if this member has no raft state (harmless on every member, every start)")
	f.DurationVar(&r.rc.HeartbeatTimeout, "raft-heartbeat-timeout", r.rc.HeartbeatTimeout, "replicated mode: raft heartbeat timeout (leader loss is noticed after about this)")
	f.DurationVar(&r.rc.ElectionTimeout, "raft-election-timeout", r.rc.ElectionTimeout, "replicated mode: raft election timeout")
	f.DurationVar(&r.rc.Grace, "resume-grace", r.rc.Grace, "replicated mode: how long a new leader keeps a session without a connection before closing it (clients RESUME within it)")
}

// on reports whether replicated mode was asked for.
func (r *raftFlags) on() bool { return r.id != "" || r.peers != "" }

// errRaftFlags: replicated-mode flags are incomplete or clash with single-node ones.
var errRaftFlags = errors.New("replicated mode")

// config completes the server's RaftConfig from the flags.
func (r *raftFlags) config() (server.RaftConfig, error) {
	if r.id == "" || r.peers == "" {
		return server.RaftConfig{}, fmt.Errorf("%w: give both --raft-id and --peers", errRaftFlags)
	}
	peers, err := server.ParsePeers(r.peers)
	if err != nil {
		return server.RaftConfig{}, fmt.Errorf("%w: --peers: %w", errRaftFlags, err)
	}
	rc := r.rc
	rc.ID, rc.Bind, rc.Peers, rc.Bootstrap = r.id, r.addr, peers, r.bootstrap
	return rc, nil
}

// serveRaft runs a replicated member until ctx ends. The single-node extras (TLS relay,
// metrics) are not served in this mode yet.
func serveRaft(ctx context.Context, o *serveOptions, cfg server.Config, log *slog.Logger) error {
	rc, err := o.raft.config()
	if err != nil {
		return &exitError{serveExitConfig, err}
	}
	if cfg.UnsafeTokens {
		return &exitError{serveExitConfig, fmt.Errorf("%w: --unsafe-tokens: the raft log lives in --data-dir", errRaftFlags)}
	}
	srv, err := server.NewReplicated(cfg, rc)
	if err != nil {
		return &exitError{serveExitConfig, err}
	}
	if err := srv.Start(); err != nil {
		return &exitError{serveExitStart, err}
	}
	<-ctx.Done()
	log.Info("shutting down", "reason", context.Cause(ctx))
	sctx, cancel := context.WithTimeout(context.Background(), min(o.shutdownWait, 10*time.Second))
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
