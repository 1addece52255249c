package client

import (
	"bytes"
	"fmt"
	"time"

	"github.com/wwly/wwly/wire"
)

// readLoop is the only reader of the connection: it decodes frames and hands each reply to the
// request waiting for it. It never blocks on a caller (reply channels are buffered).
func (c *Client) readLoop() {
	defer c.wg.Done()
	c.t.readerStart()
	defer func() {
		// The transport may close its descriptor only once no write can be using it.
		c.wmu.Lock()
		c.t.readerDone()
		c.wmu.Unlock()
	}()
	r := wire.NewReader(recvClock{c}, c.opts.limits)
	for {
		f, err := r.Next()
		if err != nil {
			c.fail(fmt.Errorf("%w: read: %w", ErrClosed, err))
			return
		}
		if err := c.dispatch(f); err != nil {
			c.fail(err)
			return
		}
	}
}

// recvClock reads the transport and notes when bytes last came in (for the heartbeat timeout).
type recvClock struct{ c *Client }

func (r recvClock) Read(p []byte) (int, error) {
	n, err := r.c.t.Read(p)
	if n > 0 {
		r.c.lastRecv.Store(time.Now().UnixNano())
	}
	return n, err
}

// dispatch handles one frame. A non-nil error ends the connection.
func (c *Client) dispatch(f *wire.Frame) error {
	switch f.Type {
	case wire.Welcome:
		w := *f
		w.Secret = bytes.Clone(f.Secret) // f aliases the read buffer, which the next read reuses
		select {
		case c.welcome <- w:
		default:
			return fmt.Errorf("%w: %w: unexpected WELCOME", ErrClosed, ErrProtocol)
		}
	case wire.Granted:
		c.granted(f.Req, f.Token)
	case wire.OK:
		c.deliver(f.Req, reply{typ: wire.OK})
	case wire.Acquired:
		c.deliver(f.Req, reply{typ: wire.Acquired, token: f.Token, value: f.Value, code: f.Code})
	case wire.Error:
		err := replyError(f.Code, string(f.Msg))
		if f.Req == 0 || f.Code.ClosesConn() {
			if f.Code == wire.CodeAuth || f.Code == wire.CodeShutdown {
				return err // already says what happened; ErrClosed would only add noise
			}
			return fmt.Errorf("%w: %w", ErrClosed, err)
		}
		c.deliver(f.Req, reply{typ: wire.Error, err: err})
	case wire.Lost:
		c.mu.Lock()
		m := c.held[f.Target]
		delete(c.held, f.Target)
		c.mu.Unlock()
		if m != nil {
			m.markLost(f.Target, codeError(f.Code, ""))
		}
	case wire.StatusReply:
		locks := make([]LockInfo, len(f.Locks))
		for i, l := range f.Locks {
			locks[i] = LockInfo{
				Name:       string(l.Name), // copies out of the read buffer
				Holder:     l.Holder,
				Token:      l.Token,
				Waiters:    int(l.Waiters),
				OldestWait: time.Duration(l.OldestWait),
				LeaseLeft:  time.Duration(l.LeaseLeft),
				Kind:       kindName(l.Kind),
				Holders:    int(l.Holders),
				Value:      l.Value,
			}
		}
		c.deliver(f.Req, reply{typ: wire.StatusReply, locks: locks})
	case wire.SessionsReply:
		who := make([]SessionInfo, len(f.Sessions))
		for i, si := range f.Sessions {
			client := string(si.Client) // copies out of the read buffer
			who[i] = SessionInfo{Session: si.Session, Client: client, Remote: string(si.Remote),
				Locks: int(si.Locks), Who: ParseWho(client)}
		}
		c.deliver(f.Req, reply{typ: wire.SessionsReply, who: who})
	case wire.Ping:
		req := f.Req
		// Written from the reader: a PONG is tiny, and the socket buffer has room for it unless
		// the server stopped reading, in which case the connection is doomed anyway.
		_ = c.write(func(b []byte) []byte { return appendEmpty(b, wire.Pong, req) })
	case wire.Pong:
		// lastRecv is already updated.
	case wire.Redirect:
		return &RedirectError{Leader: string(f.Addr)}
	default:
		return fmt.Errorf("%w: %w: unexpected %v frame", ErrClosed, ErrProtocol, f.Type)
	}
	return nil
}

// deliver hands r to the request req, if anyone still waits for it.
func (c *Client) deliver(req uint64, r reply) {
	c.mu.Lock()
	cl := c.takeLocked(req)
	abandoned := cl != nil && cl.abandoned
	c.mu.Unlock()
	switch {
	case cl == nil:
	case abandoned:
		if cl.undo != nil && r.typ == wire.Acquired {
			cl.undo(r)
		}
	case cl.ch != nil:
		cl.ch <- r // the last touch of cl: its owner may reuse it once it has the reply
	}
}

// granted handles GRANTED for acquire req: it records the hold on the Mutex before waking the
// caller, so that a LOST right behind it finds the hold; an abandoned acquire is released.
func (c *Client) granted(req, token uint64) {
	c.mu.Lock()
	cl := c.takeLocked(req)
	if cl != nil && !cl.abandoned && cl.m != nil {
		c.held[req] = cl.m
	}
	c.mu.Unlock()
	switch {
	case cl == nil:
		// Nobody asked for this (cannot happen with a correct server): give it back.
	case cl.abandoned:
		// The GRANTED crossed our CANCEL on the wire: the lock is ours, and nobody wants it.
	default:
		cl.m.setHeld(req, token)
		// A fail() on another goroutine may have swept the held map between our insert and
		// setHeld, and found nothing to mark; it closes done before sweeping, so look again.
		select {
		case <-c.done:
			cl.m.markLost(req, c.closedErr())
		default:
		}
		cl.ch <- reply{typ: wire.Granted, token: token}
		return
	}
	if cl != nil && cl.m != nil {
		cl.m.releaseAsync(token)
	}
}
