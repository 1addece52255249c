package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wwly/wwly/wire"
)

// MutexOption configures a Mutex.
type MutexOption func(*Mutex)

// WithTTL gives every hold of the Mutex a lease of d: the server revokes the lock (LOST, Lost()
// closed) unless it is renewed in time. The Mutex renews it by itself every d/3 while held, so
// the lease only runs out when this process stalls or loses the server for about d.
func WithTTL(d time.Duration) MutexOption { return func(m *Mutex) { m.ttl = d } }

// Mutex is one named lock on the server, taken through its Client. It implements sync.Locker.
//
// A Mutex is safe for concurrent use: goroutines sharing one Mutex queue locally (as with
// sync.Mutex) before a single acquire is sent, and Unlock may be called from any goroutine.
// Distinct Mutex values with the same name on the same or other Clients exclude each other
// through the server, in FIFO order.
type Mutex struct {
	c     *Client
	name  string
	nameB []byte // name, encoded once
	ttl   time.Duration
	// noRenew stops automatic renewal: tests use it to make a holder stall.
	noRenew bool

	// gate is the local semaphore: a slot is taken from Lock until Unlock, so at most one
	// acquire or hold per Mutex is in flight.
	gate chan struct{}

	// cl is the acquire call, reused while no reply can still come for it (the gate makes
	// acquires of one Mutex take turns), so that an acquire allocates nothing; an acquire that
	// leaves it behind (abandoned, or on a dead connection) replaces it.
	cl *call

	mu         sync.Mutex // guards the fields below
	held       bool       // granted and not yet unlocked (lost or not)
	isLost     bool
	acq        uint64 // request id of the acquire that got the hold (LOST names it)
	token      uint64
	lost       chan struct{}
	lostClosed bool          // lost is closed: the next hold needs a new one
	stop       chan struct{} // closed to stop the renewer
	lostBy     error
}

// Mutex returns the lock name on this Client. It sends nothing until locked.
func (c *Client) Mutex(name string, opts ...MutexOption) *Mutex {
	m := &Mutex{c: c, name: name, nameB: []byte(name), gate: make(chan struct{}, 1), lost: make(chan struct{})}
	m.cl = m.newCall()
	for _, o := range opts {
		o(m)
	}
	return m
}

// Name is the lock's name.
func (m *Mutex) Name() string { return m.name }

// Lock blocks until the lock is held (or, like sync.Mutex, until the goroutine holding this
// Mutex unlocks it). Lock cannot report an error: if the acquire fails (connection gone, server
// refusal), the Mutex comes back locked but already lost — Lost() is closed, Token() is 0, and
// Unlock is still due and quiet — so `m.Lock(); defer m.Unlock()` stays balanced. Check Lost()
// after Lock, or use LockContext, when a failure matters.
func (m *Mutex) Lock() {
	m.gate <- struct{}{}
	if err := m.acquire(context.Background(), -1); err != nil {
		m.mu.Lock()
		m.held, m.isLost, m.acq, m.token, m.lostBy = true, true, 0, 0, err
		m.closeLost()
		m.mu.Unlock()
	}
}

// LockContext blocks until the lock is held, ctx ends, or the connection fails. When ctx ends
// first the acquire is cancelled on the server (and released, if the grant crossed the cancel);
// the error then wraps ErrCancelled or ErrTimeout (deadline) and ctx.Err(). A ctx deadline is
// sent to the server as the wait bound, so the server times the wait out without a CANCEL.
func (m *Mutex) LockContext(ctx context.Context) error {
	select {
	case m.gate <- struct{}{}:
	default:
		select {
		case m.gate <- struct{}{}:
		case <-ctx.Done():
			return m.ctxErr(ctx)
		case <-m.c.done:
			return fmt.Errorf("acquire %q: %w", m.name, m.c.closedErr())
		}
	}
	wait := int64(-1)
	if dl, ok := ctx.Deadline(); ok {
		wait = int64(time.Until(dl))
		if wait <= 0 {
			<-m.gate
			return m.ctxErr(ctx)
		}
	}
	if err := m.acquire(ctx, wait); err != nil {
		<-m.gate
		return err
	}
	return nil
}

func (m *Mutex) ctxErr(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		err = context.DeadlineExceeded
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("acquire %q: %w (%w)", m.name, ErrTimeout, err)
	}
	return fmt.Errorf("acquire %q: %w (%w)", m.name, ErrCancelled, err)
}

// TryLock takes the lock only if it is free now (one round trip); false when it is not, and on
// any failure (use TryLockContext to tell them apart).
func (m *Mutex) TryLock() bool {
	ok, _ := m.TryLockContext(context.Background())
	return ok
}

// TryLockContext takes the lock only if it is free now: (true, nil) when taken, (false, nil) when
// someone else holds it or this Mutex is already locked, (false, err) on failure.
func (m *Mutex) TryLockContext(ctx context.Context) (bool, error) {
	select {
	case m.gate <- struct{}{}:
	default:
		return false, nil
	}
	if err := m.acquire(ctx, 0); err != nil {
		<-m.gate
		if errors.Is(err, ErrTimeout) && ctx.Err() == nil {
			return false, nil // a wait of 0 "times out" when the lock is busy
		}
		return false, err
	}
	return true, nil
}

// acquire sends ACQUIRE and waits for the outcome. The gate slot is held by the caller.
func (m *Mutex) acquire(ctx context.Context, wait int64) error {
	c := m.c
	if err := wire.CheckName(m.nameB, c.opts.limits); err != nil {
		return fmt.Errorf("acquire %q: %w (%w)", m.name, ErrNameLength, err)
	}
	req := c.newReq()
	cl := m.cl
	cl.wait, cl.abandoned = wait != 0, false
	if err := c.register(req, cl); err != nil {
		return fmt.Errorf("acquire %q: %w", m.name, err)
	}
	ttl := int64(m.ttl)
	if err := c.write(func(b []byte) []byte { return appendAcquire(b, req, m.nameB, wait, ttl) }); err != nil {
		c.unregister(req)
		m.cl = m.newCall() // the connection's failure may have put a reply in cl.ch
		return fmt.Errorf("acquire %q: %w", m.name, err)
	}
	select {
	case r := <-cl.ch:
		if r.err != nil {
			if _, ok := ctx.Deadline(); ok && errors.Is(r.err, ErrTimeout) {
				// The server timed out the wait we derived from ctx's deadline, maybe a hair
				// before ctx noticed: it is that deadline that passed.
				return fmt.Errorf("acquire %q: %w (%w)", m.name, r.err, context.DeadlineExceeded)
			}
			return fmt.Errorf("acquire %q: %w", m.name, r.err)
		}
		return nil
	case <-ctx.Done():
	}
	// ctx ended first: cancel, unless the reply is already on its way.
	if c.abandon(req, cl) {
		m.cl = m.newCall() // the reader still owns cl until the abandoned reply comes
		return m.ctxErr(ctx)
	}
	r := <-cl.ch
	if r.err == nil && r.typ == wire.Granted {
		// Granted just as ctx ended: give it back (pipelined). The caller keeps the gate slot
		// until it returns, so nobody else can be using this hold.
		if held, wasLost, token, _ := m.drop(); held && !wasLost {
			_ = m.releaseAsync(token)
		}
	}
	return m.ctxErr(ctx)
}

func (m *Mutex) newCall() *call { return &call{ch: make(chan reply, 1), m: m} }

// closeLost closes lost once. m.mu must be held.
func (m *Mutex) closeLost() {
	if !m.lostClosed {
		close(m.lost)
		m.lostClosed = true
	}
}

// setHeld records a grant; called by the reader before the acquirer is woken. The Lost channel
// is only renewed after it was closed, so that a hold allocates nothing.
func (m *Mutex) setHeld(acq, token uint64) {
	m.mu.Lock()
	m.held, m.isLost, m.acq, m.token, m.lostBy = true, false, acq, token, nil
	if m.lostClosed {
		m.lost, m.lostClosed = make(chan struct{}), false
	}
	if m.ttl > 0 && !m.noRenew {
		m.stop = make(chan struct{})
		m.c.wg.Add(1)
		go m.renew(m.stop, acq, token, m.ttl)
	}
	m.mu.Unlock()
}

// markLost closes Lost if the hold of acquire acq is still current.
func (m *Mutex) markLost(acq uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.held || m.isLost || m.acq != acq {
		return
	}
	m.isLost = true
	m.lostBy = err
	m.closeLost()
	if m.stop != nil {
		close(m.stop)
		m.stop = nil
	}
}

// Token is the fencing token of the current hold (it rises with every grant of the name, also
// across server restarts), or 0 when not held. It stays readable after the hold is lost, so
// that stale writes can be recognised.
func (m *Mutex) Token() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.held {
		return 0
	}
	return m.token
}

// Lost returns a channel that is closed when the current hold is revoked: its lease expired, or
// the connection died while it was held (the server then released it). Take it after locking;
// Unlock does not close it. Holds that end without a loss share one channel, so a channel taken
// during an earlier hold may close for a later hold's loss: take it again after each Lock. Before
// the first hold it is a channel that has not closed (or a closed one if the last Lock failed).
func (m *Mutex) Lost() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lost
}

// Unlock releases the lock without waiting for the server's reply (the release is pipelined
// with whatever is sent next, so an uncontended Lock+Unlock costs one round trip). A lost lock
// is just forgotten. Like sync.Mutex, Unlock of a Mutex that is not locked is a programming
// error: it panics with "wwly: Unlock of unlocked Mutex"; UnlockContext returns ErrNotHeld
// instead.
func (m *Mutex) Unlock() {
	held, wasLost, token, _ := m.drop()
	if !held {
		panic(fmt.Sprintf("wwly: Unlock of unlocked Mutex %q", m.name))
	}
	defer m.unGate()
	if !wasLost {
		// A write error means the connection is gone, and with it the hold: nothing to report.
		_ = m.releaseAsync(token)
	}
}

// Release is Unlock with errors instead of the panic: it sends RELEASE without waiting for the
// reply (pipelined, like Unlock) and returns ErrNotHeld when the Mutex is not locked, ErrLost
// when the hold had been revoked, or ErrClosed when the connection is gone (the server has
// released the lock then). Prefer it to UnlockContext on hot paths: it saves a round trip.
func (m *Mutex) Release() error {
	held, wasLost, token, lostBy := m.drop()
	if !held {
		return fmt.Errorf("release %q: %w", m.name, ErrNotHeld)
	}
	defer m.unGate()
	if wasLost {
		return fmt.Errorf("release %q: %w (%w)", m.name, ErrLost, lostBy)
	}
	if err := m.releaseAsync(token); err != nil {
		return fmt.Errorf("release %q: %w", m.name, err)
	}
	return nil
}

// UnlockContext releases the lock and waits for the server's answer. It returns ErrNotHeld when
// the Mutex is not locked, ErrLost when the hold had been revoked (nothing is sent), or the
// server's error.
func (m *Mutex) UnlockContext(ctx context.Context) error {
	held, wasLost, token, lostBy := m.drop()
	if !held {
		return fmt.Errorf("release %q: %w", m.name, ErrNotHeld)
	}
	defer m.unGate()
	if wasLost {
		return fmt.Errorf("release %q: %w (%w)", m.name, ErrLost, lostBy)
	}
	if _, err := m.c.roundTrip(ctx, func(b []byte, req uint64) []byte {
		return appendRelease(b, req, m.nameB, token)
	}); err != nil {
		return fmt.Errorf("release %q: %w", m.name, err)
	}
	return nil
}

// unGate gives the local slot back. It runs after RELEASE is written, so a next Lock through
// this Mutex queues behind our release on the wire.
func (m *Mutex) unGate() { <-m.gate }

// drop forgets the current hold and stops its renewer. It reports whether there was a hold,
// whether it had been lost (and why), and its token.
func (m *Mutex) drop() (held, wasLost bool, token uint64, lostBy error) {
	m.mu.Lock()
	if !m.held {
		m.mu.Unlock()
		return false, false, 0, nil
	}
	wasLost, acq, token, lostBy := m.isLost, m.acq, m.token, m.lostBy
	m.held, m.isLost, m.token = false, false, 0
	if m.stop != nil {
		close(m.stop)
		m.stop = nil
	}
	m.mu.Unlock()
	m.c.mu.Lock()
	delete(m.c.held, acq)
	m.c.mu.Unlock()
	return true, wasLost, token, lostBy
}

// releaseAsync sends RELEASE with the next write (see writeDeferred); the reply is not awaited
// (the reader drops it).
func (m *Mutex) releaseAsync(token uint64) error {
	req := m.c.newReq()
	return m.c.writeDeferred(func(b []byte) []byte { return appendRelease(b, req, m.nameB, token) })
}

// renew keeps the lease of one hold alive until stop is closed. It also keeps a local view of
// the lease: when no renewal has been acknowledged by the time the last acknowledged lease would
// run out (the server is stalled or unreachable), the hold is declared lost here, without waiting
// for a LOST that may never come. The view starts at the grant as seen here, one network hop
// after the server started the lease, which is why renewals go out at a third of the TTL.
func (m *Mutex) renew(stop chan struct{}, acq, token uint64, ttl time.Duration) {
	defer m.c.wg.Done()
	every := max(ttl/3, time.Millisecond)
	validUntil := time.Now().Add(ttl)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-m.c.done:
			return
		case <-tick.C:
		}
		sent := time.Now()
		ctx, cancel := context.WithDeadline(context.Background(), validUntil)
		_, err := m.c.roundTrip(ctx, func(b []byte, req uint64) []byte {
			return appendRenew(b, req, m.nameB, token, int64(ttl))
		})
		cancel()
		switch {
		case err == nil:
			validUntil = sent.Add(ttl)
		case errors.Is(err, ErrNotHeld):
			// The lease ran out before the renewal got there; LOST is on its way or was
			// overtaken. Either way the hold is gone.
			m.markLost(acq, fmt.Errorf("renew %q: %w", m.name, ErrLost))
			return
		case errors.Is(err, context.DeadlineExceeded):
			m.markLost(acq, fmt.Errorf("renew %q: %w: no renewal acknowledged within the %v lease", m.name, ErrLost, ttl))
			return
		}
	}
}
