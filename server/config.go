package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// Hard ceilings for settings; beyond them a setting is a typo, not a tuning choice.
const (
	maxLoops       = 256 // session ids carry the owning loop in their low byte
	maxFrameLimit  = 16 << 20
	maxNameLimit   = 1<<16 - 1 // names travel with a u16 length
	minMaxOutbound = 4 << 10
)

// ErrConfig is wrapped by every Validate error.
var ErrConfig = errors.New("server: invalid config")

// DefaultConfig returns a fresh Config with the defaults.
func DefaultConfig() Config {
	lim := wire.DefaultLimits()
	return Config{
		Addr:              "127.0.0.1:1977",
		Loops:             1,
		QueueCap:          8,
		MaxWaiters:        1 << 16,
		FlushBatch:        64,
		FlushInterval:     0,
		HeartbeatInterval: 2 * time.Second,
		HeartbeatTimeout:  10 * time.Second,
		HelloTimeout:      5 * time.Second,
		MaxConns:          10000,
		MaxOutstanding:    1024,
		MaxOutbound:       4 << 20,
		MaxFrame:          lim.MaxFrame,
		MaxName:           lim.MaxName,
		MaxHolds:          DefaultMaxHolds,
	}
}

// DefaultMaxHolds is `--max-holds`: what one connection may hold, await or have open. Closing a
// connection releases all of it in one loop turn, which stalls that loop for every other client:
// 1.0–1.3 ms at 10k holds, 40–160 ms at 100k (docs/design.md, BenchmarkCloseSessionStall). 10000
// keeps that stall near a millisecond; a client that needs more opens more connections.
const DefaultMaxHolds = 10000

// Validate reports the first invalid setting, precisely. It never rewrites a setting.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Addr == "":
		return bad("addr is empty (want host:port, e.g. 127.0.0.1:1977)")
	case c.Handoff.Barge < 0 || c.Handoff.Barge > engine.MaxBarge:
		return bad("handoff barge:%d, want fifo or barge:N with N in 1..%d", c.Handoff.Barge, engine.MaxBarge)
	case c.Loops < 1 || c.Loops > maxLoops:
		return bad("loops = %d, want 1..%d", c.Loops, maxLoops)
	case c.QueueCap < 1:
		return bad("queue-cap = %d, want ≥ 1", c.QueueCap)
	case c.MaxWaiters < 1:
		return bad("max-waiters = %d, want ≥ 1", c.MaxWaiters)
	case c.QueueCap > c.MaxWaiters:
		return bad("queue-cap = %d exceeds max-waiters = %d", c.QueueCap, c.MaxWaiters)
	case c.FlushBatch < 1:
		return bad("flush-batch = %d, want ≥ 1", c.FlushBatch)
	case c.FlushInterval < 0:
		return bad("flush-interval = %v, want ≥ 0", c.FlushInterval)
	case c.FlushInterval > time.Second:
		return bad("flush-interval = %v, want ≤ 1s", c.FlushInterval)
	case c.HeartbeatInterval <= 0:
		return bad("heartbeat-interval = %v, want > 0", c.HeartbeatInterval)
	case c.HeartbeatTimeout <= c.HeartbeatInterval:
		return bad("heartbeat-timeout = %v must exceed heartbeat-interval = %v", c.HeartbeatTimeout, c.HeartbeatInterval)
	case c.HelloTimeout <= 0:
		return bad("hello-timeout = %v, want > 0", c.HelloTimeout)
	case c.MaxConns < 1:
		return bad("max-conns = %d, want ≥ 1", c.MaxConns)
	case c.MaxUnauthConns < 0:
		return bad("max-unauth-conns = %d, want ≥ 0 (0 = max-conns/8)", c.MaxUnauthConns)
	case c.MaxUnauthConns > 0 && c.MaxUnauthConns >= c.MaxConns:
		return bad("max-unauth-conns = %d must be below max-conns = %d, or connections without HELLO can take every slot", c.MaxUnauthConns, c.MaxConns)
	case c.MaxOutstanding < 1:
		return bad("max-outstanding = %d, want ≥ 1", c.MaxOutstanding)
	case c.MaxFrame < wire.HeaderSize+64 || c.MaxFrame > maxFrameLimit:
		return bad("max-frame = %d, want %d..%d bytes", c.MaxFrame, wire.HeaderSize+64, maxFrameLimit)
	case c.MaxName < 1 || c.MaxName > maxNameLimit:
		return bad("max-name = %d, want 1..%d bytes", c.MaxName, maxNameLimit)
	case c.MaxName+wire.HeaderSize+32 > c.MaxFrame:
		return bad("max-name = %d does not fit in max-frame = %d", c.MaxName, c.MaxFrame)
	case c.MaxHolds < 1:
		return bad("max-holds = %d, want ≥ 1", c.MaxHolds)
	case c.MaxOutbound < minMaxOutbound:
		return bad("max-outbound = %d, want ≥ %d bytes", c.MaxOutbound, minMaxOutbound)
	case c.MaxOutbound < c.MaxFrame:
		return bad("max-outbound = %d is smaller than max-frame = %d", c.MaxOutbound, c.MaxFrame)
	case c.DataDir == "" && !c.UnsafeTokens:
		return bad("data dir is empty: fencing tokens could repeat after a restart (set one, or UnsafeTokens for a throwaway server)")
	case c.DataDir != "" && c.UnsafeTokens:
		return bad("both a data dir and unsafe tokens are set: choose one")
	case c.AuthToken != nil && len(c.AuthToken) == 0:
		return bad("auth token is empty (use nil for no auth)")
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c Config) limits() wire.Limits {
	lim := wire.DefaultLimits()
	lim.MaxFrame = c.MaxFrame
	lim.MaxName = c.MaxName
	return lim
}

// unauthCap is how many connections may be open without HELLO (see Config.MaxUnauthConns),
// given the effective connection cap.
func (c Config) unauthCap(maxConns int) int {
	if c.MaxUnauthConns > 0 {
		return min(c.MaxUnauthConns, maxConns)
	}
	return max(1, maxConns/8)
}
