// Package server is wwly's TCP transport: a gnet v2 event-loop server that decodes wire frames,
// feeds them to the engine, and writes the engine's events back, batched per connection.
//
// Threading model (see docs/design.md): every connection belongs to one gnet event loop, and
// all its state is touched only on that loop. The lock engine is split into one shard per loop
// (a name lives on shard hash(name) mod loops); a shard is touched only by its owning loop.
// Requests for a shard owned by another loop, and engine events for a session on another loop,
// cross over through a per-loop lock-free inbox (a Treiber stack drained in one batch) that wakes
// the target loop with gnet's EventLoop.Execute. With one loop everything runs inline.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
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
	HelloTimeout      time.Duration // a connection must send HELLO this soon after accept, or is closed
	MaxConns          int
	// MaxUnauthConns caps connections that have not sent HELLO yet (0 = MaxConns/8, at least 1).
	// Over the cap, the oldest of them on the loop is closed to admit the new one, so strangers
	// that connect and dawdle cannot keep authorized clients out.
	MaxUnauthConns int
	MaxOutstanding int // outstanding requests per connection
	MaxOutbound    int // bytes queued for one connection before it is dropped as a slow consumer
	MaxFrame       int
	MaxName        int
	// MaxHolds bounds what one session holds, awaits or has open (every kind); beyond it a
	// request fails with TOO_MANY_HOLDS. It keeps one client from pinning unbounded server memory.
	MaxHolds int
	// Handoff is what a release of a contended lock does (`--handoff`): strict FIFO (the zero
	// value), or bounded barging, where a release pipelined with an acquire of the same name in
	// one read may keep the lock up to N times in a row (engine.Handoff).
	Handoff engine.Handoff
	// DataDir holds the fencing-token epoch file (and a lock file: one server per dir). Required
	// unless UnsafeTokens: without it tokens may repeat after a restart, which defeats fencing.
	DataDir string
	// UnsafeTokens runs without DataDir: the epoch comes from the wall clock (10-second steps),
	// so tokens repeat after a restart sooner than that. For throwaway servers only.
	UnsafeTokens bool
	AuthToken    []byte // nil = no auth
	Logger       *slog.Logger
}

// Errors returned by the Server's lifecycle methods.
var (
	ErrStarted    = errors.New("server: already started")
	ErrNotStarted = errors.New("server: not started")
	ErrStart      = errors.New("server: start failed")
	// ErrAddrInUse: another socket (most likely another wwly server) listens on the address.
	ErrAddrInUse = errors.New("server: address already in use")
)

// engineMode selects how loops share the lock engine.
type engineMode uint8

const (
	// modeSharded: one engine shard per loop, owned by that loop; cross-loop traffic through
	// lock-free inboxes. The default.
	modeSharded engineMode = iota
	// modeMutex: one engine behind a sync.Mutex, called inline by every loop. The simplest
	// correct design, kept as the baseline of BenchmarkEngineMode.
	modeMutex
)

// Server is a running lock server. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	lim  wire.Limits
	mode engineMode

	start         time.Time // origin of the engine's monotonic clock
	maxConns      int       // Config.MaxConns, capped by the descriptor limit at Start
	unauthPerLoop int       // connections without HELLO one loop admits (Config.unauthCap spread over loops)
	epochs        *epochStore
	dirLock       *dirLock // held from Start to Shutdown when there is a data dir
	loops         []*loop
	shards        []*shard

	nextSID atomic.Uint64
	conns   atomic.Int64 // accepted connections not yet closed
	unauth  atomic.Int64 // of those, the ones without HELLO (counted by the loops; for tests and logs)
	closing atomic.Bool

	// discovery of gnet's loops: OnOpen binds each new gnet.EventLoop to the next loop slot.
	discMu  sync.Mutex
	byEL    map[gnet.EventLoop]*loop
	bound   atomic.Int32
	booted  chan gnet.Engine
	runDone chan struct{}
	runErr  error // set before runDone is closed

	lifeMu  sync.Mutex
	started bool // Start was called
	running bool // Start succeeded and Shutdown has not run

	gnetEng gnet.Engine
	addr    string
}

// New checks cfg and prepares a server; nothing listens yet.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.AuthToken != nil {
		cfg.AuthToken = append([]byte(nil), cfg.AuthToken...)
	}
	return &Server{
		cfg:     cfg,
		log:     cfg.logger(),
		lim:     cfg.limits(),
		byEL:    make(map[gnet.EventLoop]*loop, cfg.Loops),
		booted:  make(chan gnet.Engine, 1),
		runDone: make(chan struct{}),
	}, nil
}

// now is the engine clock: nanoseconds since the server started, monotonic.
func (s *Server) now() int64 { return int64(time.Since(s.start)) }

// Start listens and returns once connections are accepted; Addr is valid afterwards.
// A Server starts at most once.
func (s *Server) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.started {
		return ErrStarted
	}
	s.started = true
	s.start = time.Now()
	if err := s.start0(); err != nil {
		s.dirLock.unlock()
		for _, l := range s.loops {
			l.stopTimers()
		}
		for _, sh := range s.shards {
			sh.timer.Stop()
		}
		return err
	}
	s.running = true
	return nil
}

// start0 does the work of Start; the caller cleans up after an error.
func (s *Server) start0() error {
	var err error
	// The data dir first: a second server on the same dir is refused whatever its address.
	if s.cfg.DataDir != "" {
		if s.dirLock, err = lockDataDir(s.cfg.DataDir); err != nil {
			return fmt.Errorf("%w: %w", ErrStart, err)
		}
	}
	noFile, err := raiseNoFile()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	s.maxConns = s.cfg.MaxConns
	if c := connCap(noFile, s.cfg.Loops); c < s.maxConns {
		if c < 1 {
			return fmt.Errorf("%w: RLIMIT_NOFILE %d leaves no room for connections", ErrStart, noFile)
		}
		s.log.Warn("max-conns capped by the descriptor limit", "max_conns", s.cfg.MaxConns, "cap", c, "nofile", noFile)
		s.maxConns = c
	}
	capU := s.cfg.unauthCap(s.maxConns)
	s.unauthPerLoop = max(1, (capU+s.cfg.Loops-1)/s.cfg.Loops)
	s.epochs, err = openEpoch(s.cfg.DataDir, time.Now())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	epoch := s.epochs.epoch()
	if s.cfg.DataDir == "" {
		s.log.Warn("unsafe tokens: no data dir, fencing-token epoch from the wall clock (10-second steps since 2026); tokens may repeat after a restart sooner than 10 s", "epoch", epoch)
	} else {
		s.log.Info("fencing-token epoch", "epoch", epoch, "data_dir", s.cfg.DataDir)
	}
	if err := s.buildLoops(epoch); err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	addr, err := claimAddr(s.cfg.Addr, s.cfg.Loops)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStart, err)
	}

	opts := []gnet.Option{
		gnet.WithNumEventLoop(s.cfg.Loops),
		gnet.WithMulticore(s.cfg.Loops > 1),
		// Each loop accepts on its own SO_REUSEPORT listener and runs OnOpen right after accept,
		// so a connection over max-conns is closed before the next accept: descriptors stay bounded.
		gnet.WithReusePort(true),
		// SO_REUSEADDR, set before bind, is inherited by accepted sockets: their TIME_WAIT
		// remains after a stop then do not block the next start's bind (probe included), which
		// otherwise failed with EADDRINUSE for ~60 s. A live listener still blocks it.
		gnet.WithReuseAddr(true),
		gnet.WithTCPNoDelay(gnet.TCPNoDelay),
		gnet.WithLogger(gnetLogger{s.log}),
	}
	if idle, every, count := s.keepAlive(); idle > 0 {
		opts = append(opts, gnet.WithTCPKeepAlive(idle), gnet.WithTCPKeepInterval(every), gnet.WithTCPKeepCount(count))
	}
	go func() {
		s.runErr = gnet.Run(&handler{srv: s}, "tcp://"+addr, opts...)
		close(s.runDone)
	}()
	select {
	case eng := <-s.booted:
		s.gnetEng = eng
	case <-s.runDone:
		return fmt.Errorf("%w: %w", ErrStart, listenErr(addr, s.runErr))
	}
	if addr, err = boundAddr(s.gnetEng, addr); err != nil {
		_ = s.stopGnet(context.Background())
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	s.addr = addr
	if err := s.discoverLoops(addr); err != nil {
		_ = s.stopGnet(context.Background())
		return fmt.Errorf("%w: %w", ErrStart, err)
	}
	s.log.Info("listening", "addr", addr, "loops", s.cfg.Loops, "max_conns", s.maxConns,
		"max_unauth_conns", s.unauthPerLoop*s.cfg.Loops, "hello_timeout", s.cfg.HelloTimeout)
	return nil
}

// buildLoops creates the loop slots and the engine shards.
func (s *Server) buildLoops(epoch uint32) error {
	ecfg := engine.DefaultConfig()
	ecfg.QueueCap = s.cfg.QueueCap
	ecfg.MaxWaiters = s.cfg.MaxWaiters
	ecfg.MaxName = s.cfg.MaxName
	ecfg.MaxHolds = s.cfg.MaxHolds
	ecfg.Handoff = s.cfg.Handoff
	ecfg.Epoch = epoch
	s.loops = make([]*loop, s.cfg.Loops)
	for i := range s.loops {
		s.loops[i] = newLoop(s, i)
	}
	nShards := s.cfg.Loops
	if s.mode == modeMutex {
		nShards = 1
	}
	s.shards = make([]*shard, nShards)
	var access shardAccess = ownerAccess{}
	if s.mode == modeMutex {
		access = &mutexAccess{} // its one shard, shared by every loop
	}
	for i := range s.shards {
		e, err := engine.New(ecfg)
		if err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		sh := &shard{idx: i, eng: e, owner: s.loops[i], access: access}
		sh.timer = time.AfterFunc(time.Hour, func() { sh.owner.post(&message{kind: mTick, shard: sh}) })
		sh.timer.Stop()
		s.shards[i] = sh
	}
	return nil
}

// claimAddr checks that addr is free and returns the address gnet must bind.
//
// gnet runs here with SO_REUSEPORT, and Linux lets any socket of the same user with that option
// share a port: a second server on a busy port would silently take half of the connections and
// break mutual exclusion. A plain socket (without SO_REUSEPORT) cannot share, so a probe bind
// (probeBind, which never listens) refuses a port some server already holds. It runs right
// before gnet binds, to keep the window between the two short. With port 0 and one loop, gnet binds port 0 itself,
// and the kernel never shares an auto-bound port; with several loops every loop binds the
// address string, so the probe's port is used (a start racing ours on that very port within the
// probe-to-bind window could still share it).
func claimAddr(addr string, loops int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("addr %q: %w", addr, err)
	}
	if (port == "0" || port == "") && loops == 1 {
		return net.JoinHostPort(host, "0"), nil
	}
	return probeBind(addr)
}

// listenErr words a failure to listen on addr, naming a busy address as such.
func listenErr(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: %s (is another wwly serve running there?): %w", ErrAddrInUse, addr, err)
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}

// discoverLoops dials the server until every gnet loop has opened a connection, so each loop
// slot knows its gnet.EventLoop (the handle needed to wake it). The kernel spreads SO_REUSEPORT
// connections by hash, so this takes a few dials; it is bounded in count and time.
func (s *Server) discoverLoops(addr string) error {
	var anchors []net.Conn
	defer func() {
		for _, c := range anchors {
			_ = c.Close()
		}
		// Let the server see the anchors go, so they never count against max-conns.
		deadline := time.Now().Add(time.Second)
		for s.conns.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}()
	want := int32(len(s.loops))
	deadline := time.Now().Add(5 * time.Second)
	for tries := 0; s.bound.Load() < want; tries++ {
		if tries >= 64*len(s.loops) || time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d event loops seen after %d dials", s.bound.Load(), want, tries)
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return fmt.Errorf("dial self: %w", err)
		}
		anchors = append(anchors, c)
		before := s.bound.Load()
		for wait := time.Now().Add(20 * time.Millisecond); s.bound.Load() == before && time.Now().Before(wait); {
			time.Sleep(100 * time.Microsecond)
		}
	}
	return nil
}

// bindLoop returns the loop slot of el, binding el to the next free slot the first time.
// Called from OnOpen only (once per connection), so the mutex is off the request path.
func (s *Server) bindLoop(el gnet.EventLoop) *loop {
	s.discMu.Lock()
	defer s.discMu.Unlock()
	if l, ok := s.byEL[el]; ok {
		return l
	}
	n := int(s.bound.Load())
	if n >= len(s.loops) {
		return nil
	}
	l := s.loops[n]
	s.byEL[el] = l
	l.bind(el)
	s.bound.Store(int32(n + 1))
	return l
}

// Addr is the address actually listened on (useful with port 0).
func (s *Server) Addr() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.addr
}

// Shutdown stops accepting, tells every client (ERROR Shutdown), closes connections and stops.
// It returns ctx's error if ctx ends first (the server is then stopped without waiting for
// every client). Calling it again, or after a failed Start, does nothing; before Start it
// returns ErrNotStarted.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if !s.started {
		return ErrNotStarted
	}
	if !s.running {
		return nil // already shut down, or Start failed
	}
	s.running = false
	s.closing.Store(true)
	for _, l := range s.loops {
		l.post(&message{kind: mShutdown})
	}
	var waitErr error
	tick := time.NewTicker(2 * time.Millisecond)
	for s.conns.Load() > 0 && waitErr == nil {
		select {
		case <-ctx.Done():
			waitErr = ctx.Err()
		case <-tick.C:
		}
	}
	tick.Stop()
	err := s.stopGnet(ctx)
	for _, l := range s.loops {
		l.stopTimers()
	}
	for _, sh := range s.shards {
		sh.timer.Stop()
	}
	s.dirLock.unlock()
	s.log.Info("server stopped", "addr", s.addr)
	return errors.Join(waitErr, err)
}

// stopGnet stops the gnet engine and waits for gnet.Run to return. gnet's Engine.Stop polls
// for completion every 500 ms, so it runs in the background and is cancelled as soon as Run
// has returned, which is the real completion signal.
func (s *Server) stopGnet(ctx context.Context) error {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	stopErr := make(chan error, 1)
	go func() { stopErr <- s.gnetEng.Stop(stopCtx) }()
	select {
	case <-s.runDone:
		cancel()
		<-stopErr
		return nil
	case err := <-stopErr:
		if err == nil {
			<-s.runDone
			return nil
		}
		return fmt.Errorf("server: stop: %w", err)
	}
}

// gnetLogger routes gnet's own log lines into slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(format string, args ...any) {
	g.l.Debug(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Infof(format string, args ...any) {
	g.l.Debug(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Warnf(format string, args ...any) {
	g.l.Warn(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Errorf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
}
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error(fmt.Sprintf(format, args...), "component", "gnet")
}
