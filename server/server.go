// Package server is wwly's TCP transport: a gnet v2 event-loop server that decodes wire frames,
// feeds them to the engine, and writes the engine's events back, batched per connection.
package server

import (
	"context"
	"log/slog"
	"time"
)

// Config holds every server tunable; each one is a `wwly serve` flag.
type Config struct {
	Addr              string        // listen address, default 127.0.0.1:1977
	Loops             int           // gnet event loops
	QueueCap          int           // initial per-name waiter ring capacity
	MaxWaiters        int           // waiters per name before ErrQueueFull
	FlushBatch        int           // flush a connection's coalesced frames after this many
	FlushInterval     time.Duration // 0: flush at the end of each loop iteration; >0: hold frames up to this long
	HeartbeatInterval time.Duration // told to clients in WELCOME
	HeartbeatTimeout  time.Duration // a connection silent this long is closed and its locks released
	MaxConns          int
	MaxOutstanding    int // outstanding requests per connection
	MaxOutbound       int // bytes queued for one connection before it is dropped as a slow consumer
	MaxFrame          int
	MaxName           int
	DataDir           string // holds the fencing-token epoch file; "" = a fresh epoch from the clock
	AuthToken         []byte // nil = no auth
	Logger            *slog.Logger
}

// Server is a running lock server.
type Server struct{ _ struct{} }

// DefaultConfig returns a fresh Config with the defaults.
func DefaultConfig() Config { panic("server: not implemented") }

// Validate reports the first invalid setting, precisely.
func (c Config) Validate() error { panic("server: not implemented") }

// New checks cfg and prepares a server; nothing listens yet.
func New(cfg Config) (*Server, error) { panic("server: not implemented") }

// Start listens and returns once connections are accepted; Addr is valid afterwards.
func (s *Server) Start() error { panic("server: not implemented") }

// Addr is the address actually listened on (useful with port 0).
func (s *Server) Addr() string { panic("server: not implemented") }

// Shutdown stops accepting, tells every client (ERROR Shutdown), closes connections and stops.
func (s *Server) Shutdown(ctx context.Context) error { panic("server: not implemented") }
