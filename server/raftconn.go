package server

// One client connection of a replicated server: HELLO or RESUME, then requests proposed through
// the log in arrival order; answers come back as committed events (Replicated.route).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/replica"
	"github.com/wwly/wwly/wire"
)

type rconn struct {
	srv *Replicated
	nc  net.Conn
	sid engine.SessionID // 0 until HELLO/RESUME succeeded

	mu       sync.Mutex // guards out, closed, kept
	out      []byte
	closed   bool
	kept     bool // closing without closing the session (shutdown, superseded by a RESUME)
	kick     chan struct{}
	inflight chan struct{} // bounds requests waiting for their entry (MaxOutstanding)
}

func newRconn(s *Replicated, nc net.Conn) *rconn {
	return &rconn{srv: s, nc: nc, kick: make(chan struct{}, 1),
		inflight: make(chan struct{}, s.cfg.MaxOutstanding)}
}

// send queues frames built by enc; a connection that lets MaxOutbound bytes pile up is dropped.
func (c *rconn) send(enc func([]byte) []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.out = enc(c.out)
	over := len(c.out) > c.srv.cfg.MaxOutbound
	c.mu.Unlock()
	if over {
		c.fail(wire.CodeSlowConsumer, "outbound buffer bound exceeded")
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// event writes one committed engine event of this connection's session. Called under srv.mu.
func (c *rconn) event(ev *engine.Event) {
	switch ev.Kind {
	case engine.Granted:
		c.send(func(b []byte) []byte { return wire.AppendGranted(b, ev.Req, ev.Token) })
	case engine.Failed:
		code, msg := raftCode(ev.Err), ev.Err.Error()
		c.send(func(b []byte) []byte { return wire.AppendError(b, ev.Req, code, msg) })
	case engine.Done:
		c.send(func(b []byte) []byte { return wire.AppendOK(b, ev.Req) })
	case engine.Lost:
		c.send(func(b []byte) []byte { return wire.AppendLost(b, ev.Req, ev.Name, ev.Token, wire.CodeLeaseExpired) })
	}
}

func raftCode(err error) wire.Code {
	if errors.Is(err, replica.ErrNoSession) {
		return wire.CodeNoSession
	}
	return errorCode(err)
}

// fail tells the client why (req 0) and closes the connection; the reader's exit then decides
// what happens to the session.
func (c *rconn) fail(code wire.Code, msg string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if code == wire.CodeShutdown || code == wire.CodeUnavailable {
		c.kept = true // the client resumes the session on the leader
	}
	c.out = wire.AppendError(c.out, 0, code, msg)
	c.closed = true
	out := c.out
	c.out = nil
	c.mu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.nc.Write(out)
	_ = c.nc.Close()
}

func (c *rconn) writeLoop() {
	defer c.srv.wg.Done()
	var buf []byte
	for range c.kick {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		buf, c.out = c.out, buf[:0]
		c.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.HeartbeatTimeout))
		if _, err := c.nc.Write(buf); err != nil {
			_ = c.nc.Close()
			return
		}
	}
}

// readLoop serves the connection until it ends, then closes its session through the log unless
// the session is kept for a RESUME (shutdown of this member, or taken over by a newer connection).
func (c *rconn) readLoop() {
	defer c.srv.wg.Done()
	defer c.finish()
	r := wire.NewReader(c.nc, c.srv.lim)
	_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.HelloTimeout))
	for {
		f, err := r.Next()
		if err != nil {
			if f != nil && errors.Is(err, wire.ErrNameLength) && c.sid != 0 {
				req := f.Req
				c.send(func(b []byte) []byte { return wire.AppendError(b, req, wire.CodeNameLength, "bad name length") })
				continue
			}
			if errors.Is(err, wire.ErrBadFrame) || errors.Is(err, wire.ErrUnknownType) || errors.Is(err, wire.ErrFrameTooLarge) {
				c.fail(wire.CodeBadFrame, err.Error())
			}
			return
		}
		_ = c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.HeartbeatTimeout))
		if f.Type == wire.Cluster {
			if !c.cluster(f) {
				return
			}
			continue
		}
		if c.sid == 0 {
			if !c.handshake(f) {
				return
			}
			continue
		}
		if !c.request(f) {
			return
		}
	}
}

// finish runs when the reader stops: the session is closed through the log unless kept.
func (c *rconn) finish() {
	c.mu.Lock()
	c.closed = true
	kept := c.kept
	c.mu.Unlock()
	_ = c.nc.Close()
	close(c.kick)
	s := c.srv
	s.mu.Lock()
	delete(s.all, c)
	mine := c.sid != 0 && s.conns[c.sid] == c
	if mine {
		delete(s.conns, c.sid)
	}
	s.mu.Unlock()
	if mine && !kept && s.node.Raft().State() == raft.Leader {
		s.closeSession(c.sid, "connection closed")
	}
}

// redirect answers a follower's client: the leader's client address, or none, then closes.
func (c *rconn) redirect(req uint64) {
	addr := []byte(c.srv.leaderClient())
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.kept = true, true
	out := wire.AppendRedirect(c.out, req, addr)
	c.out = nil
	c.mu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.nc.Write(out)
	_ = c.nc.Close()
}

// handshake serves the first frame: HELLO opens a session through the log, RESUME takes over
// an open one. A follower redirects.
func (c *rconn) handshake(f *wire.Frame) bool {
	s := c.srv
	if f.Type != wire.Hello && f.Type != wire.Resume {
		c.fail(wire.CodeAuth, fmt.Sprintf("%v before HELLO", f.Type))
		return false
	}
	if f.Version != wire.Version {
		c.fail(wire.CodeVersion, fmt.Sprintf("server speaks protocol version %d", wire.Version))
		return false
	}
	if s.cfg.AuthToken != nil && !tokenEqual(f.Auth, s.cfg.AuthToken) {
		c.fail(wire.CodeAuth, "wrong or missing auth token")
		return false
	}
	if s.node.Raft().State() != raft.Leader {
		c.redirect(f.Req)
		return false
	}
	req := f.Req
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HelloTimeout)
	defer cancel()
	var secret []byte
	var sid engine.SessionID
	if f.Type == wire.Hello {
		var err error
		if secret, err = newSecret(); err != nil {
			c.fail(wire.CodeInternal, err.Error())
			return false
		}
		if sid, err = s.node.OpenSession(ctx, secret); err != nil {
			c.unavailable(err)
			return false
		}
	} else {
		// The barrier makes this node's state include every entry committed before it led.
		if err := s.node.Raft().Barrier(s.cfg.HelloTimeout).Error(); err != nil {
			c.unavailable(err)
			return false
		}
		sid, secret = engine.SessionID(f.Session), slices.Clone(f.Secret)
		if !s.node.FSM().SessionOpen(sid, secret) {
			c.fail(wire.CodeNoSession, fmt.Sprintf("session %d is not open here (closed, expired or wrong secret)", sid))
			return false
		}
	}
	s.mu.Lock()
	old := s.conns[sid]
	s.conns[sid] = c
	c.sid = sid // under s.mu: dropClients reads it
	delete(s.missing, sid)
	s.mu.Unlock()
	if old != nil {
		old.mu.Lock()
		old.kept = true
		old.mu.Unlock()
		old.fail(wire.CodeNoSession, "session resumed on another connection")
	}
	hb, to := int64(s.cfg.HeartbeatInterval), int64(s.cfg.HeartbeatTimeout)
	c.send(func(b []byte) []byte { return wire.AppendWelcomeSecret(b, req, uint64(sid), hb, to, secret) })
	return true
}

// unavailable ends a connection whose request could not be committed: a redirect when raft
// knows another leader, else ERROR(UNAVAILABLE).
func (c *rconn) unavailable(err error) {
	if errors.Is(err, replica.ErrNotLeader) {
		c.redirect(0)
		return
	}
	c.fail(wire.CodeUnavailable, err.Error())
}

// request serves one frame of an established session; false ends the connection.
func (c *rconn) request(f *wire.Frame) bool {
	cmd := replica.Command{Session: c.sid, Req: f.Req}
	switch f.Type {
	case wire.Acquire:
		cmd.Op, cmd.Name, cmd.Wait, cmd.TTL = replica.OpAcquire, slices.Clone(f.Name), time.Duration(f.Wait), time.Duration(f.TTL)
	case wire.Release:
		cmd.Op, cmd.Name, cmd.Token = replica.OpRelease, slices.Clone(f.Name), f.Token
	case wire.Renew:
		cmd.Op, cmd.Name, cmd.Token, cmd.TTL = replica.OpRenew, slices.Clone(f.Name), f.Token, time.Duration(f.TTL)
	case wire.Cancel:
		cmd.Op, cmd.Target = replica.OpCancel, f.Target
	case wire.Ping:
		req := f.Req
		c.send(func(b []byte) []byte { return wire.AppendPong(b, req) })
		return true
	case wire.Pong:
		return true
	case wire.Status:
		c.status(f)
		return true
	case wire.Sessions:
		req := f.Req
		c.send(func(b []byte) []byte { return wire.AppendSessionsReply(b, req, nil) })
		return true
	case wire.Op:
		req := f.Req
		c.send(func(b []byte) []byte {
			return wire.AppendError(b, req, wire.CodeInvalid, "OP frames are not served in replicated mode yet")
		})
		return true
	default:
		c.fail(wire.CodeBadFrame, fmt.Sprintf("unexpected %v", f.Type))
		return false
	}
	select {
	case c.inflight <- struct{}{}:
	default:
		req := f.Req
		c.send(func(b []byte) []byte {
			return wire.AppendError(b, req, wire.CodeTooManyRequests, "too many requests in flight")
		})
		return true
	}
	ctx := context.Background()
	wait, err := c.srv.node.Propose(ctx, cmd)
	if err != nil {
		<-c.inflight
		c.unavailable(err)
		return false
	}
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err := wait(wctx)
		cancel()
		<-c.inflight
		if err != nil {
			// Not committed here, or maybe committed: the client resumes on the leader and
			// finds out from the state (docs/replication.md).
			c.unavailable(err)
		}
	}()
	return true
}

// status answers STATUS from this node's state at its last applied entry.
func (c *rconn) status(f *wire.Frame) {
	want := map[string]bool{}
	for _, n := range f.Names {
		want[string(n)] = true
	}
	var locks []wire.LockInfo
	max := c.srv.lim.MaxNames
	c.srv.node.FSM().Locks(func(st engine.LockStatus) bool {
		if len(want) > 0 && !want[st.Name] {
			return true
		}
		locks = append(locks, wire.LockInfo{Name: []byte(st.Name), Holder: uint64(st.Holder), Token: st.Token,
			Waiters: uint32(st.Waiters), OldestWait: int64(st.OldestWait), LeaseLeft: int64(st.LeaseLeft),
			Kind: wirePrim(st.Kind), Holders: uint32(st.Holders), Value: st.Value})
		return len(locks) < max
	})
	req := f.Req
	c.send(func(b []byte) []byte { return wire.AppendStatusReply(b, req, locks) })
}

// cluster answers CLUSTER on any member, before or after HELLO.
func (c *rconn) cluster(f *wire.Frame) bool {
	if c.sid == 0 && c.srv.cfg.AuthToken != nil && !tokenEqual(f.Auth, c.srv.cfg.AuthToken) {
		c.fail(wire.CodeAuth, "wrong or missing auth token")
		return false
	}
	v, members := c.srv.clusterView()
	req := f.Req
	c.send(func(b []byte) []byte { return wire.AppendClusterReply(b, req, &v, members) })
	return true
}
