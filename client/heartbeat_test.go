package client

import (
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// TestHeartbeat runs a silent peer: it completes the handshake, checks that the client answers
// its PING and sends PINGs of its own, and then never answers, so the client must declare the
// connection dead after the advertised timeout. (A scripted peer: the real server never goes
// silent on purpose.)
func TestHeartbeat(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const every, limit = 50 * time.Millisecond, 500 * time.Millisecond
	var pings atomic.Int32
	pong := make(chan uint64, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := wire.NewReader(conn, wire.Limits{})
		f, err := r.Next()
		if err != nil || f.Type != wire.Hello {
			t.Errorf("first frame: %v %v", f, err)
			return
		}
		conn.Write(wire.AppendWelcome(nil, f.Req, 7, int64(every), int64(limit)))
		conn.Write(wire.AppendPing(nil, 42))
		for {
			f, err := r.Next()
			if err != nil {
				return
			}
			switch f.Type {
			case wire.Pong:
				pong <- f.Req
			case wire.Ping:
				pings.Add(1) // and never answer
			}
		}
	}()
	c := dial(t, ln.Addr().String())
	if c.Session() != 7 {
		t.Errorf("Session() = %d, want 7", c.Session())
	}
	select {
	case req := <-pong:
		if req != 42 {
			t.Errorf("PONG req = %d, want the PING's 42", req)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no PONG to the server's PING")
	}
	began := time.Now()
	waitClosed(t, c.Done(), 3*time.Second, "Done() of a connection gone silent")
	if !errors.Is(c.Err(), ErrTimeout) {
		t.Errorf("Err() = %v, want ErrTimeout", c.Err())
	}
	if pings.Load() == 0 {
		t.Error("client sent no PING")
	}
	t.Logf("declared dead %v after the last PONG (timeout %v); %d pings sent", time.Since(began), limit, pings.Load())
}
