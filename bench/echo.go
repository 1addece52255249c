package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// envEcho is the Env key holding the echo server's address.
const envEcho = "echo"

// echoMsgSize is the size of one round trip's message, about a lock request's size.
const echoMsgSize = 16

// echoBackend is not a lock: Lock is one 16-byte loopback round trip to an echo server, Unlock
// does nothing. It is the physical floor of any TCP lock server, measured in the same run.
//
// Its server runs inside the coordinator process (goroutines on Go's netpoller), not as a child
// process, so ServerPID is 0; the workers' side is a plain net.Conn, as a Go lock client's is.
type echoBackend struct{}

func (echoBackend) Name() string    { return "tcp-echo" }
func (echoBackend) Exclusive() bool { return false }
func (echoBackend) Tokens() bool    { return false }

func (echoBackend) Start(context.Context, StartOptions) (Instance, error) {
	srv, err := startEchoServer()
	if err != nil {
		return nil, err
	}
	return &procInstance{env: Env{envEcho: srv.ln.Addr().String()}, stop: srv.stop}, nil
}

// echoServer echoes every byte back on each connection until stopped.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // mu guards; nil once stopped
}

func startEchoServer() (*echoServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: tcp-echo listen: %w", err)
	}
	s := &echoServer{ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *echoServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // listener closed by stop
		}
		s.mu.Lock()
		if s.conns == nil {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *echoServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stop closes the listener and every connection and waits for the goroutines. Safe to call twice.
func (s *echoServer) stop() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (echoBackend) Connect(ctx context.Context, env Env) (Client, error) {
	addr := env[envEcho]
	if addr == "" {
		return nil, fmt.Errorf("bench: tcp-echo: env has no %q address", envEcho)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bench: tcp-echo dial: %w", err)
	}
	return &echoClient{c: c}, nil
}

// echoClient is one connection shared by its Lockers; mu makes it goroutine-safe (a worker uses
// one Locker at a time, so mu is uncontended on the hot path).
type echoClient struct {
	mu  sync.Mutex
	c   net.Conn
	buf [2 * echoMsgSize]byte // mu guards: [0:16] out, [16:32] in
}

func (c *echoClient) Locker(name string) (Locker, error) { return echoLocker{c: c}, nil }
func (c *echoClient) Close() error                       { return c.c.Close() }

// roundTrip sends 16 bytes and reads the 16 echoed back. ctx's deadline bounds it.
func (c *echoClient) roundTrip(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		_ = c.c.SetDeadline(d)
		defer c.c.SetDeadline(time.Time{})
	}
	if _, err := c.c.Write(c.buf[:echoMsgSize]); err != nil {
		return fmt.Errorf("bench: tcp-echo write: %w", err)
	}
	if _, err := io.ReadFull(c.c, c.buf[echoMsgSize:]); err != nil {
		return fmt.Errorf("bench: tcp-echo read: %w", err)
	}
	return nil
}

type echoLocker struct{ c *echoClient }

func (l echoLocker) Lock(ctx context.Context) (uint64, error) { return 0, l.c.roundTrip(ctx) }

func (l echoLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	if err := l.c.roundTrip(ctx); err != nil {
		return false, 0, err
	}
	return true, 0, nil
}

func (l echoLocker) Unlock(context.Context) error { return nil }
