package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/server"
)

// Exit statuses of `wwly serve`.
const (
	serveExitConfig = exitUsage       // EX_USAGE: a flag, the token file or the config is invalid
	serveExitStart  = exitUnavailable // EX_UNAVAILABLE: could not listen or read the data dir
)

// serveOptions are the flags of `wwly serve`: the server Config plus what only the command needs.
type serveOptions struct {
	cfg           server.Config
	authTokenFile string
	logLevel      string
	shutdownWait  time.Duration
	ops           serveOps  // --tls-*, --metrics-addr (opsflags.go)
	raft          raftFlags // --raft-id, --peers, ... (serve_raft.go)
}

func newServeCmd() *cobra.Command {
	opts := &serveOptions{cfg: server.DefaultConfig(), logLevel: "info", shutdownWait: 10 * time.Second}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "run the lock server",
		Long: `Run the wwly lock server until SIGTERM or SIGINT.

It logs "listening addr=HOST:PORT" once connections are accepted (useful with port 0).
On SIGTERM it stops accepting, sends ERROR Shutdown to every client and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return serveRun(ctx, opts, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	c := &opts.cfg
	f.StringVar(&c.Addr, "addr", c.Addr, "listen address host:port (port 0 picks a free one)")
	f.IntVar(&c.Loops, "loops", c.Loops, "gnet event loops; the lock table is sharded by name across them")
	f.IntVar(&c.QueueCap, "queue-cap", c.QueueCap, "initial waiter ring capacity per lock name")
	f.IntVar(&c.MaxWaiters, "max-waiters", c.MaxWaiters, "waiters per lock name before ERROR queue full")
	f.IntVar(&c.MaxHolds, "max-holds", c.MaxHolds, "holds, waits and opens per connection (every kind) before ERROR too many holds")
	f.IntVar(&c.FlushBatch, "flush-batch", c.FlushBatch, "flush a connection's coalesced frames after this many")
	f.DurationVar(&c.FlushInterval, "flush-interval", c.FlushInterval, "hold outgoing frames up to this long to coalesce more (0 = flush every loop turn)")
	f.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", c.HeartbeatInterval, "PING interval told to clients")
	f.DurationVar(&c.HeartbeatTimeout, "heartbeat-timeout", c.HeartbeatTimeout, "close a connection silent this long and release its locks")
	f.DurationVar(&c.HelloTimeout, "hello-timeout", c.HelloTimeout, "close a connection that has not sent HELLO this long after accept (bytes do not extend it)")
	f.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "most client connections (also capped by RLIMIT_NOFILE)")
	f.IntVar(&c.MaxUnauthConns, "max-unauth-conns", c.MaxUnauthConns, "most connections without HELLO; over it the oldest is closed (0 = max-conns/8)")
	f.IntVar(&c.MaxOutstanding, "max-outstanding", c.MaxOutstanding, "unanswered requests per connection before ERROR too many requests")
	f.IntVar(&c.MaxOutbound, "max-outbound", c.MaxOutbound, "bytes queued for one connection before it is dropped as a slow consumer")
	f.IntVar(&c.MaxFrame, "max-frame", c.MaxFrame, "largest frame accepted, in bytes")
	f.IntVar(&c.MaxName, "max-name", c.MaxName, "longest lock name, in bytes")
	f.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the fencing-token epoch and the lock file (default $WWLY_DATA_DIR, else $XDG_STATE_HOME/wwly/HOST_PORT or ~/.local/state/wwly/HOST_PORT; required with port 0)")
	f.BoolVar(&c.UnsafeTokens, "unsafe-tokens", c.UnsafeTokens, "no data dir: fencing-token epoch from the clock, tokens may repeat after a quick restart (throwaway servers only)")
	f.StringVar(&opts.authTokenFile, "auth-token-file", "", "file holding the shared auth token (default $WWLY_AUTH_TOKEN; none = no auth)")
	f.StringVar(&opts.logLevel, "log-level", opts.logLevel, "debug, info, warn or error")
	f.DurationVar(&opts.shutdownWait, "shutdown-timeout", opts.shutdownWait, "how long SIGTERM waits for clients to be told and closed")
	opts.ops.register(f)
	opts.raft.register(f)
	return cmd
}

// parseLevel maps a --log-level value to a slog.Level.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// authToken reads the token from the file, else WWLY_AUTH_TOKEN; nil means no auth.
func (o *serveOptions) authToken() ([]byte, error) {
	if o.authTokenFile != "" {
		b, err := os.ReadFile(o.authTokenFile)
		if err != nil {
			return nil, fmt.Errorf("auth token: %w", err)
		}
		tok := strings.TrimRight(string(b), "\r\n")
		if tok == "" {
			return nil, fmt.Errorf("auth token file %s is empty", o.authTokenFile)
		}
		return []byte(tok), nil
	}
	if tok := os.Getenv("WWLY_AUTH_TOKEN"); tok != "" {
		return []byte(tok), nil
	}
	return nil, nil
}

// serveRun runs the server until ctx ends, then shuts it down.
func serveRun(ctx context.Context, o *serveOptions, stderr io.Writer) error {
	level, err := parseLevel(o.logLevel)
	if err != nil {
		return &exitError{serveExitConfig, err}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := o.cfg
	cfg.Logger = log
	if cfg.AuthToken, err = o.authToken(); err != nil {
		return &exitError{serveExitConfig, err}
	}
	if cfg.DataDir == "" && !cfg.UnsafeTokens {
		if cfg.DataDir, err = defaultDataDir(cfg.Addr, os.Getenv); err != nil {
			return &exitError{serveExitConfig, err}
		}
		log.Info("data dir not given, using the default", "data_dir", cfg.DataDir)
	}
	// Version and settings before anything else happens, so every log names the build and the
	// tunables it ran with (the auth token is never among them).
	log.Info("wwly serve", "version", versionString(), "addr", cfg.Addr, "loops", cfg.Loops,
		"data_dir", cfg.DataDir, "unsafe_tokens", cfg.UnsafeTokens, "max_conns", cfg.MaxConns,
		"max_unauth_conns", cfg.MaxUnauthConns, "hello_timeout", cfg.HelloTimeout,
		"heartbeat_interval", cfg.HeartbeatInterval, "heartbeat_timeout", cfg.HeartbeatTimeout,
		"max_waiters", cfg.MaxWaiters, "max_outstanding", cfg.MaxOutstanding, "max_outbound", cfg.MaxOutbound,
		"flush_batch", cfg.FlushBatch, "flush_interval", cfg.FlushInterval, "auth", cfg.AuthToken != nil)
	if o.raft.on() {
		return serveRaft(ctx, o, cfg, log)
	}
	if err := o.ops.load(log); err != nil {
		return &exitError{serveExitConfig, err}
	}
	srv, err := server.New(cfg)
	if err != nil {
		return &exitError{serveExitConfig, err}
	}
	if err := srv.Start(); err != nil {
		return &exitError{serveExitStart, err}
	}
	ops, err := o.ops.start(srv, log)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return &exitError{serveExitStart, err}
	}
	defer ops.close() // after Shutdown: TLS clients are told through their relays
	<-ctx.Done()
	log.Info("shutting down", "reason", context.Cause(ctx))
	sctx, cancel := context.WithTimeout(context.Background(), o.shutdownWait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// errNoDefaultDataDir: `wwly serve` cannot name a default data dir and was given none.
var errNoDefaultDataDir = errors.New("no --data-dir")

// defaultDataDir is where `wwly serve` keeps its fencing-token epoch when --data-dir is not given,
// so that tokens never repeat across restarts by default: $WWLY_DATA_DIR, else
// $XDG_STATE_HOME/wwly/HOST_PORT, else $HOME/.local/state/wwly/HOST_PORT. The address is part of
// the name so that servers on different ports on one host keep apart. With port 0 (a new port
// at every start) no name stays the same across restarts, so the dir must be given.
func defaultDataDir(addr string, getenv func(string) string) (string, error) {
	if d := getenv("WWLY_DATA_DIR"); d != "" {
		return d, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("%w: with --addr port 0 give --data-dir (or $WWLY_DATA_DIR), or --unsafe-tokens for a throwaway server", errNoDefaultDataDir)
	}
	base := getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) { // the XDG spec says to ignore a relative path
		home := getenv("HOME")
		if !filepath.IsAbs(home) {
			return "", fmt.Errorf("%w: neither $XDG_STATE_HOME nor $HOME is set; give --data-dir or $WWLY_DATA_DIR", errNoDefaultDataDir)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "wwly", dirName(host)+"_"+port), nil
}

// dirName makes a host usable in a directory name ("::1" → "__1", "" → "any").
func dirName(host string) string {
	if host == "" {
		return "any"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, host)
}
