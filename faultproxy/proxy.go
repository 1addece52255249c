// Package faultproxy is a TCP proxy for tests that injects the faults a real network produces:
// it cuts each direction's byte stream into small random chunks (seeded, so a failure can be
// replayed), delays each chunk, and resets or closes connections after a number of bytes or on
// demand.
//
// A Proxy listens on 127.0.0.1:0 and forwards every accepted connection to one target. Each
// direction has its own Toxics. The proxy never changes, drops, or reorders bytes: it only
// changes where the stream is cut and when the pieces arrive, or ends the stream early.
//
// All methods of Proxy are safe for concurrent use. Close stops every goroutine it started.
package faultproxy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is returned by methods of a Proxy that has been closed.
var ErrClosed = errors.New("faultproxy: closed")

// Toxics are the faults applied to one direction of every connection. The zero value forwards
// bytes as they are read, without delay.
type Toxics struct {
	// Slice cuts each read into chunks of 1..Slice bytes (random, seeded), each written on its
	// own; 0 forwards each read whole.
	Slice int
	// Delay is slept before each chunk is written.
	Delay time.Duration
	// ResetAfter resets the connection (RST to both ends) once this many bytes have been
	// forwarded in this direction; 0 never.
	ResetAfter int64
	// CloseAfter closes the connection gracefully (FIN to both ends) once this many bytes have
	// been forwarded in this direction; 0 never.
	CloseAfter int64
}

// Config says where a Proxy forwards to and how.
type Config struct {
	Target string // host:port dialled for every accepted connection
	Seed   uint64 // seeds the chunk sizes; connection i uses the stream (Seed, i)
	Up     Toxics // client → target
	Down   Toxics // target → client
}

// Stats counts what a Proxy has forwarded since it started.
type Stats struct {
	Conns      int64 // connections accepted
	UpBytes    int64 // client → target
	DownBytes  int64 // target → client
	UpChunks   int64 // writes to the target
	DownChunks int64 // writes to the client
	Resets     int64 // connections reset (by a toxic or ResetAll)
}

// Proxy is a running fault-injecting proxy. Create one with New.
type Proxy struct {
	ln     net.Listener
	target string
	seed   uint64

	mu     sync.Mutex
	up     Toxics
	down   Toxics
	links  map[*link]struct{}
	closed bool

	nconn atomic.Uint64
	stats struct{ conns, upB, downB, upC, downC, resets atomic.Int64 }
	wg    sync.WaitGroup
}

// New starts a proxy on 127.0.0.1:0 forwarding to cfg.Target.
func New(cfg Config) (*Proxy, error) {
	if cfg.Target == "" {
		return nil, errors.New("faultproxy: empty target")
	}
	if err := cfg.Up.validate(); err != nil {
		return nil, fmt.Errorf("faultproxy: up: %w", err)
	}
	if err := cfg.Down.validate(); err != nil {
		return nil, fmt.Errorf("faultproxy: down: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{ln: ln, target: cfg.Target, seed: cfg.Seed, up: cfg.Up, down: cfg.Down, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (t Toxics) validate() error {
	if t.Slice < 0 || t.Delay < 0 || t.ResetAfter < 0 || t.CloseAfter < 0 {
		return fmt.Errorf("negative setting in %+v", t)
	}
	return nil
}

// Addr is the address clients dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetToxics replaces the toxics of both directions. Connections already open pick them up at
// their next read; byte counts for ResetAfter/CloseAfter keep running from where they are.
func (p *Proxy) SetToxics(up, down Toxics) error {
	if err := up.validate(); err != nil {
		return err
	}
	if err := down.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up, p.down = up, down
	return nil
}

// toxics returns the current toxics of one direction.
func (p *Proxy) toxics(up bool) Toxics {
	p.mu.Lock()
	defer p.mu.Unlock()
	if up {
		return p.up
	}
	return p.down
}

// ResetAll resets every open connection now (RST to both ends) and returns how many it reset.
func (p *Proxy) ResetAll() int { return p.endAll(true) }

// CloseAll closes every open connection now (FIN to both ends) and returns how many it closed.
func (p *Proxy) CloseAll() int { return p.endAll(false) }

func (p *Proxy) endAll(reset bool) int {
	p.mu.Lock()
	ls := make([]*link, 0, len(p.links))
	for l := range p.links {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	for _, l := range ls {
		l.end(reset)
	}
	return len(ls)
}

// Conns is the number of connections open through the proxy.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Stats returns the counters so far.
func (p *Proxy) Stats() Stats {
	s := &p.stats
	return Stats{Conns: s.conns.Load(), UpBytes: s.upB.Load(), DownBytes: s.downB.Load(),
		UpChunks: s.upC.Load(), DownChunks: s.downC.Load(), Resets: s.resets.Load()}
}

// Close stops listening, closes every connection and waits for the proxy's goroutines.
// Calling it again returns ErrClosed.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.CloseAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.stats.conns.Add(1)
		p.wg.Add(1)
		go p.serve(c.(*net.TCPConn), p.nconn.Add(1))
	}
}

// serve dials the target for client c and pumps both directions until both end.
func (p *Proxy) serve(client *net.TCPConn, n uint64) {
	defer p.wg.Done()
	d := net.Dialer{Timeout: 5 * time.Second}
	tc, err := d.Dial("tcp", p.target)
	if err != nil {
		client.SetLinger(0)
		client.Close()
		return
	}
	l := &link{client: client, target: tc.(*net.TCPConn), p: p}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.end(false)
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	var pumps sync.WaitGroup
	pumps.Add(2)
	go func() {
		defer pumps.Done()
		l.pump(true, rand.New(rand.NewPCG(p.seed, 2*n)))
	}()
	go func() {
		defer pumps.Done()
		l.pump(false, rand.New(rand.NewPCG(p.seed, 2*n+1)))
	}()
	pumps.Wait()
	l.end(false)
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}
