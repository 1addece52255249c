package replica

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

// Errors of Node calls. Callers use errors.Is; ErrNotLeader and ErrOutcomeUnknown also wrap
// raft's own error.
var (
	// ErrNotLeader: this node is not the leader; the command was not applied. Retry on the leader.
	ErrNotLeader = errors.New("replica: not the leader")
	// ErrOutcomeUnknown: the command may or may not be committed (leadership was lost, the node
	// stopped or the caller gave up after proposing it). A client must find out from the state
	// (or close its session) before it relies on either outcome.
	ErrOutcomeUnknown = errors.New("replica: outcome unknown")
	// ErrClosed: the node was closed.
	ErrClosed = errors.New("replica: node closed")
	// ErrBusy: a call for the same (session, request id) is already waiting on this node.
	ErrBusy = errors.New("replica: request id already in use")
	// ErrNoAnswer: Do of a command that has no answer of its own (open-session, close-session,
	// tick); use OpenSession, CloseSession or Submit.
	ErrNoAnswer = errors.New("replica: command has no answer to wait for")
)

// Config tunes a Node. Use DefaultConfig and change what you need.
type Config struct {
	Engine engine.Config
	// MaxBatch bounds the commands of one log entry (group commit).
	MaxBatch int
	// MaxInflight bounds the entries proposed and not yet committed. While they are all in
	// flight, new commands queue and go out together in the next entry.
	MaxInflight int
	// EnqueueTimeout bounds how long raft.Apply may wait to enqueue an entry.
	EnqueueTimeout time.Duration
	// TickEvery is how often the leader compares the engine's next deadline with its clock.
	TickEvery time.Duration
	// OnApplied, if set, sees every applied entry on this node, in log order, on raft's FSM
	// goroutine (it must not block for long): a server routes the events by session with it,
	// including those no call waits for (grants to a resumed session, Lost).
	OnApplied func(*Applied)
}

// DefaultConfig returns a fresh Config with the defaults.
func DefaultConfig() Config {
	return Config{Engine: engine.DefaultConfig(), MaxBatch: 512, MaxInflight: 8,
		EnqueueTimeout: time.Second, TickEvery: 5 * time.Millisecond}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.MaxBatch < 1 || c.MaxBatch > MaxCommands:
		return fmt.Errorf("replica: MaxBatch %d must be in 1..%d", c.MaxBatch, MaxCommands)
	case c.MaxInflight < 1:
		return fmt.Errorf("replica: MaxInflight %d must be at least 1", c.MaxInflight)
	case c.TickEvery <= 0:
		return fmt.Errorf("replica: TickEvery %v must be positive", c.TickEvery)
	}
	if err := c.Engine.Validate(); err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	return nil
}

// Stores are the raft stores and transport of a Node (in memory for tests, raft-boltdb, a
// file snapshot store and a network transport for a server).
type Stores struct {
	Logs      raft.LogStore
	Stable    raft.StableStore
	Snapshots raft.SnapshotStore
	Transport raft.Transport
}

// Node is one replica: a raft instance over an FSM, a batcher that turns concurrent commands
// into few log entries, and a router that hands committed events to the calls waiting for
// them. Its methods are safe for concurrent use.
type Node struct {
	cfg  Config
	fsm  *FSM
	raft *raft.Raft

	props chan *proposal
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	mu    sync.Mutex // guards waits
	waits map[waitKey]chan engine.Event

	entries, commands atomic.Uint64 // proposed by this node, for Stats
}

// NodeStats counts what this node proposed: Commands/Entries is the group-commit factor.
type NodeStats struct {
	Entries  uint64
	Commands uint64
}

// Stats reports the proposal counters; safe from any goroutine.
func (n *Node) Stats() NodeStats {
	return NodeStats{Entries: n.entries.Load(), Commands: n.commands.Load()}
}

type waitKey struct {
	s   engine.SessionID
	req uint64
}

type proposal struct {
	cmd Command
	res chan proposed // buffered: the batcher never blocks on a caller that left
}

type proposed struct {
	ap  *Applied
	i   int // the command's position in the entry
	err error
}

// ErrBatchApplyCh: raft.Config.BatchApplyCh is set. With it, raft buffers Apply calls in a
// channel and never answers those still buffered when it shuts down (hashicorp/raft v1.8.0:
// the logFuture has no shutdown channel), so a Node could not stop. Group commit does not
// need it: the Node batches commands into entries, and raft's leader loop gathers the Apply
// calls waiting on its unbuffered channel into one append anyway.
var ErrBatchApplyCh = errors.New("replica: raft.Config.BatchApplyCh must be false")

// NewNode starts a replica. rc is raft's configuration (its LocalID must be set); the caller
// bootstraps the cluster (raft.BootstrapCluster or Raft().BootstrapCluster) when it is new.
func NewNode(cfg Config, rc *raft.Config, st Stores) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rc.BatchApplyCh {
		return nil, ErrBatchApplyCh
	}
	n := &Node{cfg: cfg, props: make(chan *proposal, cfg.MaxBatch), done: make(chan struct{}),
		waits: map[waitKey]chan engine.Event{}}
	fsm, err := NewFSM(cfg.Engine, n.route)
	if err != nil {
		return nil, err
	}
	n.fsm = fsm
	r, err := raft.NewRaft(rc, fsm, st.Logs, st.Stable, st.Snapshots, st.Transport)
	if err != nil {
		return nil, fmt.Errorf("replica: start raft: %w", err)
	}
	n.raft = r
	n.wg.Add(2)
	go n.batch()
	go n.tick()
	return n, nil
}

// Raft returns the node's raft instance (state, leader, snapshots, membership).
func (n *Node) Raft() *raft.Raft { return n.raft }

// FSM returns the node's state machine (read-only use).
func (n *Node) FSM() *FSM { return n.fsm }

// Close stops the node: raft shuts down and every waiting call returns ErrClosed. It is what a
// crash looks like to the rest of the cluster (the stores keep what was written).
func (n *Node) Close() error {
	var err error
	n.once.Do(func() {
		close(n.done)
		err = n.raft.Shutdown().Error()
		n.wg.Wait()
	})
	return err
}

// route hands the committed events of an entry to the calls waiting on this node. It runs on
// raft's FSM goroutine: it only sends to buffered channels.
func (n *Node) route(ap *Applied) {
	if n.cfg.OnApplied != nil {
		n.cfg.OnApplied(ap)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.waits) == 0 {
		return
	}
	for i := range ap.Results {
		for _, ev := range ap.Results[i].Events {
			if ev.Kind != engine.Granted && ev.Kind != engine.Failed && ev.Kind != engine.Done {
				continue
			}
			k := waitKey{ev.Session, ev.Req}
			if ch := n.waits[k]; ch != nil {
				ch <- ev
				delete(n.waits, k)
			}
		}
	}
}

// Submit proposes cmd and waits until its entry is applied here; it returns the entry's
// Applied and the command's index in it.
func (n *Node) Submit(ctx context.Context, cmd Command) (*Applied, int, error) {
	wait, err := n.Propose(ctx, cmd)
	if err != nil {
		return nil, 0, err
	}
	return wait(ctx)
}

// Propose queues cmd behind every command queued before it (so the commands one goroutine
// proposes are applied in its order) and returns at once with a function that waits for the
// outcome, as Submit does. A server proposes a connection's requests in arrival order from
// the connection's reader and waits for each elsewhere, so they are pipelined.
func (n *Node) Propose(ctx context.Context, cmd Command) (func(context.Context) (*Applied, int, error), error) {
	p := &proposal{cmd: cmd, res: make(chan proposed, 1)}
	select {
	case n.props <- p:
	case <-ctx.Done():
		return nil, ctx.Err() // not proposed
	case <-n.done:
		return nil, ErrClosed
	}
	return func(ctx context.Context) (*Applied, int, error) {
		select {
		case r := <-p.res:
			return r.ap, r.i, r.err
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
		case <-n.done:
			return nil, 0, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrClosed)
		}
	}, nil
}

// OpenSession opens a session through the log and returns its id.
func (n *Node) OpenSession(ctx context.Context, secret []byte) (engine.SessionID, error) {
	ap, i, err := n.Submit(ctx, Command{Op: OpOpenSession, Secret: secret})
	if err != nil {
		return 0, err
	}
	return ap.Results[i].Session, nil
}

// CloseSession closes s through the log: its waits are dropped and its holds pass on.
func (n *Node) CloseSession(ctx context.Context, s engine.SessionID) error {
	_, _, err := n.Submit(ctx, Command{Op: OpCloseSession, Session: s})
	return err
}

// Do proposes a command that has an answer addressed to (cmd.Session, cmd.Req) and waits for
// that answer: Granted or Failed for an acquire (which may come entries later, when the
// name is handed over), Done or Failed otherwise. The answer exists only once the entry that
// caused it is committed. When ctx ends first, an acquire may still be waiting in the engine:
// the caller cancels it (OpCancel) or closes its session.
func (n *Node) Do(ctx context.Context, cmd Command) (engine.Event, error) {
	switch cmd.Op {
	case OpOpenSession, OpCloseSession, OpTick:
		return engine.Event{}, fmt.Errorf("%w: %v", ErrNoAnswer, cmd.Op)
	}
	k := waitKey{cmd.Session, cmd.Req}
	ch := make(chan engine.Event, 1)
	n.mu.Lock()
	if n.waits[k] != nil {
		n.mu.Unlock()
		return engine.Event{}, ErrBusy
	}
	n.waits[k] = ch
	n.mu.Unlock()
	forget := func() {
		n.mu.Lock()
		if n.waits[k] == ch {
			delete(n.waits, k)
		}
		n.mu.Unlock()
	}
	if _, _, err := n.Submit(ctx, cmd); err != nil {
		forget()
		return engine.Event{}, err
	}
	select {
	case ev := <-ch:
		return ev, nil
	case <-ctx.Done():
		forget()
		return engine.Event{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
	case <-n.done:
		return engine.Event{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrClosed)
	}
}

// batch is the group commit: it takes the first waiting command, waits for a free slot among
// MaxInflight entries in flight (commands keep queueing meanwhile), then takes every command
// queued so far (up to MaxBatch) into one entry stamped with this node's clock. raft.Apply is
// asynchronous, so several entries are in flight at once and raft writes and replicates
// what it has queued together.
func (n *Node) batch() {
	defer n.wg.Done()
	slots := make(chan struct{}, n.cfg.MaxInflight)
	var data []byte
	for {
		var first *proposal
		select {
		case first = <-n.props:
		case <-n.done:
			return
		}
		select {
		case slots <- struct{}{}:
		case <-n.done:
			first.res <- proposed{err: fmt.Errorf("%w: %w", ErrNotLeader, ErrClosed)}
			return
		}
		ps := []*proposal{first}
	drain:
		for len(ps) < n.cfg.MaxBatch {
			select {
			case p := <-n.props:
				ps = append(ps, p)
			default:
				break drain
			}
		}
		en := Entry{Now: time.Now().UnixNano(), Commands: make([]Command, len(ps))}
		for i, p := range ps {
			en.Commands[i] = p.cmd
		}
		data = AppendEntry(data[:0], &en)
		f := n.raft.Apply(append([]byte(nil), data...), n.cfg.EnqueueTimeout)
		n.entries.Add(1)
		n.commands.Add(uint64(len(ps)))
		n.wg.Add(1)
		go n.await(f, ps, slots)
	}
}

// futureError waits for f, or for Close. hashicorp/raft v1.8.0 can leave an ApplyFuture that
// was in flight at Shutdown unanswered for good (seen under -race in TestFailoverHammer: Close
// then waited forever on await), so a closed node stops waiting; the helper goroutine ends
// whenever raft answers, if ever.
func (n *Node) futureError(f raft.ApplyFuture) error {
	errc := make(chan error, 1)
	go func() { errc <- f.Error() }()
	select {
	case err := <-errc:
		return err
	case <-n.done:
		select {
		case err := <-errc: // answered as we closed: keep the real outcome
			return err
		default:
			return ErrClosed
		}
	}
}

// await answers the proposals of one entry when raft has applied it (or failed to).
func (n *Node) await(f raft.ApplyFuture, ps []*proposal, slots chan struct{}) {
	defer n.wg.Done()
	err := n.futureError(f)
	<-slots
	var ap *Applied
	switch {
	case errors.Is(err, ErrClosed):
		err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrEnqueueTimeout),
		errors.Is(err, raft.ErrLeadershipTransferInProgress):
		err = fmt.Errorf("%w: %w", ErrNotLeader, err) // never appended: not applied
	case err != nil:
		err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	default:
		ap, _ = f.Response().(*Applied)
		if ap == nil || ap.Err != nil {
			err = fmt.Errorf("replica: entry not applied: %v", ap)
		}
	}
	for i, p := range ps {
		p.res <- proposed{ap: ap, i: i, err: err}
	}
}

// tick proposes an OpTick whenever this node leads and its clock has passed the engine's next
// deadline (a wait timeout or a lease expiry): the decision that a deadline passed is the
// leader's, taken once, and replayed by every replica from the log.
func (n *Node) tick() {
	defer n.wg.Done()
	t := time.NewTicker(n.cfg.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-n.done:
			return
		}
		if n.raft.State() != raft.Leader {
			continue
		}
		d, ok, _ := n.fsm.NextDeadline()
		if !ok || d > time.Now().UnixNano() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.EnqueueTimeout)
		_, _, _ = n.Submit(ctx, Command{Op: OpTick}) // a failed tick is retried at the next check
		cancel()
	}
}
