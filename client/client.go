// Package client is the Go client of the wwly lock server: one pipelined TCP connection per
// Client, on which any number of goroutines take named locks (Mutex) concurrently.
//
// A lock is held by the connection (the server's session): when the connection dies, the server
// releases every lock it held at once, and the Client closes the Lost channel of every Mutex
// that was held. Heartbeats keep an idle connection alive and detect a dead peer.
//
// Costs: an uncontended Lock+Unlock is one round trip. Unlock (and Release) do not wait for the
// server: the RELEASE goes out in the same write as the next request (or from a flusher goroutine
// right after, when no request follows), so the server handles release and re-acquire together.
// UnlockContext waits for the reply. Replies are read by one reader goroutine per Client, which
// wakes the goroutine waiting for each.
//
// Unlock of a Mutex that is not locked panics, as sync.Mutex does; everything else reports
// errors. Errors wrap the sentinels of this package (ErrTimeout, ErrNotHeld, ...); test them
// with errors.Is.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wwly/wwly/wire"
)

// DefaultAddr is the server address used when none is given.
const DefaultAddr = "127.0.0.1:1977"

type options struct {
	auth        []byte
	clientName  string
	dialTimeout time.Duration
	ioMode      IOMode
	limits      wire.Limits
	tls         *tls.Config // nil: plaintext (see WithTLS)
	resume      uint64      // WithResume: the session to take over (0 = a new one)
	secret      []byte      // WithResume: its secret
}

// Option configures Dial.
type Option func(*options)

// WithAuthToken sets the token sent in HELLO; the server refuses a wrong or missing one (ErrAuth).
func WithAuthToken(token []byte) Option {
	return func(o *options) { o.auth = append([]byte(nil), token...) }
}

// WithClientName names the connection in the server's logs and status. Dial sends it as
// "NAME host=HOST pid=PID" (docs/protocol.md 7.1), appending this host and process id unless
// name already carries them; without this option NAME is the program's name.
func WithClientName(name string) Option { return func(o *options) { o.clientName = name } }

// WithDialTimeout bounds connecting plus the HELLO/WELCOME handshake (default 5s). The ctx given
// to Dial bounds it too.
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithIOMode selects the I/O path (default IONetConn, measured faster; see IOMode).
func WithIOMode(m IOMode) Option { return func(o *options) { o.ioMode = m } }

// LockInfo describes one live lock, as reported by Status.
type LockInfo struct {
	Name       string
	Holder     uint64 // the holder's session id; 0 when free
	Token      uint64 // the holder's fencing token
	Waiters    int
	OldestWait time.Duration // how long the longest waiter has waited
	LeaseLeft  time.Duration // 0 when the holder has no lease
	// Kind is the name's kind as docs/protocol.md spells it: "MUTEX", "RLOCK", "SEMAPHORE",
	// "BOUNDED_SEMAPHORE", "RWMUTEX", "EVENT", "BARRIER", "CONDITION".
	Kind    string
	Holders int   // holds: readers of an RWMutex, grants of a Semaphore; 1 for a held Mutex or RLock
	Value   int64 // Semaphore: permits free; Event: 1 when set; Barrier: 1 when broken
}

// reply is what the reader hands a waiting request.
type reply struct {
	typ   wire.Type
	token uint64
	locks []LockInfo
	who   []SessionInfo // SESSIONS_REPLY
	err   error
	value int64     // ACQUIRED: a Barrier's arrival index
	code  wire.Code // ACQUIRED: TIMEOUT for a Condition wait that timed out holding its lock
}

// call is one request waiting for its reply. ch has room for the one reply, so the reader never
// blocks on it. m is set for acquires; abandoned marks an acquire whose caller gave up (ctx): a
// GRANTED for it is released by the reader, anything else is dropped.
type call struct {
	ch        chan reply
	m         *Mutex
	abandoned bool
	undo      func(reply) // OP acquires: gives back an ACQUIRED that arrives after its caller gave up
}

// Client is one connection to a wwly server. It is safe for concurrent use by many goroutines.
type Client struct {
	t       transport
	opts    options
	session uint64
	secret  []byte // the session's resume secret (replicated servers; see cluster.go)
	hbEvery time.Duration
	hbLimit time.Duration

	nextReq   atomic.Uint64
	nextOwner atomic.Uint64 // RLock.NewOwner ids
	lastRecv  atomic.Int64  // unix ns of the last bytes read
	lastSend  atomic.Int64  // unix ns of the last frame written

	wmu         sync.Mutex // serialises writes; guards the three fields below
	wbuf        []byte     // frames deferred by writeDeferred, then the frame being written
	wclosed     bool
	flushKicked bool          // the flusher has been told about deferred frames
	kick        chan struct{} // wakes the flusher; capacity 1

	mu      sync.Mutex // guards pending, held, err
	pending map[uint64]*call
	held    map[uint64]*Mutex // by the acquire's request id (LOST names the acquire)
	err     error

	done      chan struct{} // closed when the connection is gone
	welcome   chan wire.Frame
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// Dial connects to the server at addr, performs the HELLO/WELCOME handshake and starts the
// reader and heartbeat goroutines. The Client must be closed with Close. addr may list the
// members of a replicated cluster, "a,b,c": Dial finds the leader (cluster.go).
func Dial(ctx context.Context, addr string, opts ...Option) (*Client, error) {
	o := options{dialTimeout: 5 * time.Second, ioMode: IONetConn, limits: wire.DefaultLimits()}
	for _, opt := range opts {
		opt(&o)
	}
	if o.dialTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.dialTimeout)
		defer cancel()
	}
	return dialCluster(ctx, splitAddrs(addr), &o)
}

// dialOne connects to one server and performs the handshake.
func dialOne(ctx context.Context, addr string, op *options) (*Client, error) {
	o := *op
	t, err := dialWith(ctx, addr, &o)
	if err != nil {
		return nil, &dialError{addr: addr, err: err}
	}
	c := &Client{
		t:       t,
		opts:    o,
		wbuf:    make([]byte, 0, 512),
		kick:    make(chan struct{}, 1),
		pending: make(map[uint64]*call),
		held:    make(map[uint64]*Mutex),
		done:    make(chan struct{}),
		welcome: make(chan wire.Frame, 1),
	}
	c.lastRecv.Store(time.Now().UnixNano())
	c.wg.Add(2)
	go c.readLoop()
	go c.flusher()
	if err := c.write(func(b []byte) []byte {
		return resumeHello(b, c.newReq(), &o)
	}); err != nil {
		c.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	select {
	case w := <-c.welcome:
		if w.Version != wire.Version {
			c.Close()
			return nil, fmt.Errorf("dial %s: %w: server speaks protocol version %d, want %d", addr, ErrProtocol, w.Version, wire.Version)
		}
		c.session, c.secret = w.Session, append([]byte(nil), w.Secret...) // w aliases the read buffer
		c.hbEvery = time.Duration(w.Heartbeat)
		c.hbLimit = time.Duration(w.Timeout)
	case <-c.done:
		err := c.Err()
		c.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("dial %s: handshake: %w (%w)", addr, ErrTimeout, ctx.Err())
	}
	if c.hbEvery > 0 {
		c.wg.Add(1)
		go c.heartbeat()
	}
	return c, nil
}

// Session is the server's id for this connection (the Holder in LockInfo).
func (c *Client) Session() uint64 { return c.session }

// Done is closed when the connection is gone (Close, server gone, heartbeat timeout).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err reports why the connection is gone, or nil while it is up. It wraps ErrClosed after Close.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection; the server releases every lock it held. Mutexes that were held
// see Lost closed. Close waits for the Client's goroutines and is idempotent.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// fail ends the connection once with err: wakes every waiting request and marks every held
// Mutex lost.
func (c *Client) fail(err error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.err = err
		pending, held := c.pending, c.held
		c.pending, c.held = map[uint64]*call{}, map[uint64]*Mutex{}
		c.mu.Unlock()
		// Close first: it unblocks a writer stuck on a full socket, so taking wmu cannot hang.
		c.t.Close()
		c.wmu.Lock()
		c.wclosed = true
		c.wmu.Unlock()
		close(c.done)
		for _, cl := range pending {
			if cl.ch != nil {
				cl.ch <- reply{err: err}
			}
		}
		for acq, m := range held {
			m.markLost(acq, err)
		}
	})
}

func (c *Client) newReq() uint64 { return c.nextReq.Add(1) }

// write appends a frame with enc and writes it, together with any deferred frames before it,
// in one call. It returns ErrClosed (wrapping the connection's error) when the connection is gone.
func (c *Client) write(enc func([]byte) []byte) error {
	c.wmu.Lock()
	if c.wclosed {
		c.wmu.Unlock()
		return c.closedErr()
	}
	c.wbuf = enc(c.wbuf) // after the deferred frames, if any
	err := c.flushLocked()
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("%w: write: %w", ErrClosed, err))
		return c.closedErr()
	}
	return nil
}

// writeDeferred queues a frame to go out with the next write, or by the flusher goroutine soon
// after if no write comes first. Unlock uses it: a goroutine that locks again right away sends
// its RELEASE and ACQUIRE in one segment, so the server reads, and answers, both at once.
func (c *Client) writeDeferred(enc func([]byte) []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed {
		return c.closedErr()
	}
	c.wbuf = enc(c.wbuf)
	if !c.flushKicked {
		c.flushKicked = true
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// flushLocked writes wbuf out. wmu must be held.
func (c *Client) flushLocked() error {
	if len(c.wbuf) == 0 {
		return nil
	}
	_, err := c.t.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
	if cap(c.wbuf) > 64<<10 {
		c.wbuf = make([]byte, 0, 512) // a large STATUS must not pin memory forever
	}
	c.lastSend.Store(time.Now().UnixNano())
	return err
}

// flusher writes deferred frames that no later write picked up. It yields once before writing,
// so a goroutine that is about to send anyway (the common Unlock-then-Lock loop) gets there first.
func (c *Client) flusher() {
	defer c.wg.Done()
	for {
		select {
		case <-c.done:
			return
		case <-c.kick:
		}
		runtime.Gosched()
		c.wmu.Lock()
		c.flushKicked = false
		var err error
		if !c.wclosed {
			err = c.flushLocked()
		}
		c.wmu.Unlock()
		if err != nil {
			c.fail(fmt.Errorf("%w: write: %w", ErrClosed, err))
			return
		}
	}
}

func (c *Client) closedErr() error {
	err := c.Err()
	if err == nil || errors.Is(err, ErrClosed) {
		if err == nil {
			return ErrClosed
		}
		return err
	}
	return fmt.Errorf("%w: %w", ErrClosed, err)
}

// register records a request before it is sent, so that its reply cannot outrun it.
func (c *Client) register(req uint64, cl *call) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.closedErr0()
	}
	c.pending[req] = cl
	return nil
}

// closedErr0 is closedErr for callers that hold mu.
func (c *Client) closedErr0() error {
	if errors.Is(c.err, ErrClosed) {
		return c.err
	}
	return fmt.Errorf("%w: %w", ErrClosed, c.err)
}

func (c *Client) unregister(req uint64) {
	c.mu.Lock()
	delete(c.pending, req)
	c.mu.Unlock()
}

// roundTrip sends one request built by enc under a fresh id and waits for its reply, ctx, or the
// end of the connection. The reply is dropped if ctx ends first.
func (c *Client) roundTrip(ctx context.Context, enc func(b []byte, req uint64) []byte) (reply, error) {
	req := c.newReq()
	cl := &call{ch: make(chan reply, 1)}
	if err := c.register(req, cl); err != nil {
		return reply{}, err
	}
	if err := c.write(func(b []byte) []byte { return enc(b, req) }); err != nil {
		c.unregister(req)
		return reply{}, err
	}
	select {
	case r := <-cl.ch:
		return r, r.err
	case <-ctx.Done():
		c.unregister(req)
		return reply{}, ctx.Err()
	}
}

// Status reports the named locks, or every live lock (up to a server bound) when names is empty.
// Names nobody holds or waits for are left out of the answer.
func (c *Client) Status(ctx context.Context, names ...string) ([]LockInfo, error) {
	r, err := c.roundTrip(ctx, func(b []byte, req uint64) []byte { return appendStatus(b, req, names) })
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return r.locks, nil
}

// heartbeat pings at the server's interval when nothing else was sent, and ends the connection
// when nothing at all was received for the server's timeout.
func (c *Client) heartbeat() {
	defer c.wg.Done()
	// Ticking at half the interval and pinging after half an interval of quiet keeps every gap
	// between frames under the interval, as the protocol requires.
	tick := time.NewTicker(max(c.hbEvery/2, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-tick.C:
			ns := now.UnixNano()
			if c.hbLimit > 0 && ns-c.lastRecv.Load() > int64(c.hbLimit) {
				c.fail(&silentError{limit: c.hbLimit.String()})
				return
			}
			if ns-c.lastSend.Load() >= int64(c.hbEvery)/2 {
				_ = c.write(func(b []byte) []byte { return appendEmpty(b, wire.Ping, 0) })
			}
		}
	}
}

// abandon is what an acquire does when its ctx ends before the reply: if the reader has not
// taken call req yet, mark it abandoned (a grant that crosses the CANCEL is then released by the
// reader, or undone for OP acquires) and send CANCEL, and report true. False means the reply is
// already on its way and the caller must read it from cl.ch.
func (c *Client) abandon(req uint64, cl *call) bool {
	c.mu.Lock()
	_, waiting := c.pending[req]
	if waiting {
		cl.abandoned = true
	}
	c.mu.Unlock()
	if waiting {
		creq := c.newReq()
		_ = c.write(func(b []byte) []byte { return appendCancel(b, creq, req) })
	}
	return waiting
}
