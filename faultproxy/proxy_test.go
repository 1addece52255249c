package faultproxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// echoServer echoes every connection until the test ends.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				defer c.Close()
				buf := make([]byte, 64<<10)
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
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); e.wg.Wait() })
	return e
}

func startProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dialProxy(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

func TestCuts(t *testing.T) {
	cases := []struct{ n, slice int }{{0, 3}, {1, 3}, {10, 0}, {10, 1}, {10, 3}, {100, 7}, {5, 50}}
	for _, tt := range cases {
		t.Run(fmt.Sprintf("n=%d,slice=%d", tt.n, tt.slice), func(t *testing.T) {
			got := Cuts(rand.New(rand.NewPCG(1, 2)), tt.n, tt.slice)
			sum := 0
			for _, c := range got {
				if c < 1 || (tt.slice > 0 && c > tt.slice) {
					t.Fatalf("chunk %d outside 1..%d: %v", c, tt.slice, got)
				}
				sum += c
			}
			if sum != tt.n {
				t.Fatalf("chunks %v sum to %d, want %d", got, sum, tt.n)
			}
			again := Cuts(rand.New(rand.NewPCG(1, 2)), tt.n, tt.slice)
			if fmt.Sprint(again) != fmt.Sprint(got) {
				t.Fatalf("same seed, different cuts: %v vs %v", got, again)
			}
		})
	}
}

// TestSliceAndDelayKeepBytes: slicing and delaying in both directions changes nothing in the
// bytes, only how they are cut and when they arrive.
func TestSliceAndDelayKeepBytes(t *testing.T) {
	e := startEcho(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	slow := Toxics{Slice: 5, Delay: 200 * time.Microsecond}
	p := startProxy(t, Config{Target: e.ln.Addr().String(), Seed: seed, Up: slow, Down: Toxics{Slice: 3}})
	c := dialProxy(t, p)
	msg := make([]byte, 2000)
	for i := range msg {
		msg[i] = byte(i * 7)
	}
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echoed bytes differ")
	}
	// The counters are bumped just after each write: give the last one a moment.
	st := p.Stats()
	for deadline := time.Now().Add(time.Second); st.UpBytes < 2000 && time.Now().Before(deadline); st = p.Stats() {
		time.Sleep(time.Millisecond)
	}
	if st.UpBytes != 2000 || st.DownBytes != 2000 || st.UpChunks < 2000/5 || st.DownChunks < 2000/3 {
		t.Fatalf("stats %+v", st)
	}
	// Each upstream chunk was delayed: at least UpChunks × Delay in all.
	if d := time.Since(start); d < time.Duration(st.UpChunks)*slow.Delay {
		t.Fatalf("took %v for %d chunks delayed %v", d, st.UpChunks, slow.Delay)
	}
}

// TestResetAfter: after ResetAfter bytes upstream both ends see a reset, and the target got
// exactly that many bytes.
func TestResetAfter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer s.Close()
		b, _ := io.ReadAll(s)
		got <- len(b)
	}()
	p := startProxy(t, Config{Target: ln.Addr().String(), Seed: 1, Up: Toxics{Slice: 7, ResetAfter: 100}})
	c := dialProxy(t, p)
	_, _ = c.Write(make([]byte, 1000))
	_, err = c.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after reset: %v, want ECONNRESET", err)
	}
	if n := <-got; n != 100 {
		t.Fatalf("target read %d bytes, want 100", n)
	}
	if p.Stats().Resets != 1 {
		t.Fatalf("stats %+v", p.Stats())
	}
}

// TestCloseAfterAndOnDemand: CloseAfter ends the stream with EOF; ResetAll resets live
// connections; Close stops everything and refuses new connections.
func TestCloseAfterAndOnDemand(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, Config{Target: e.ln.Addr().String(), Down: Toxics{CloseAfter: 10}})
	c := dialProxy(t, p)
	_, _ = c.Write(make([]byte, 50))
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 10 {
		t.Fatalf("read %d bytes, err %v; want 10 then EOF", len(b), err)
	}

	if err := p.SetToxics(Toxics{}, Toxics{}); err != nil {
		t.Fatal(err)
	}
	d := dialProxy(t, p)
	_, _ = d.Write([]byte("ping"))
	if _, err := io.ReadFull(d, make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	// The first link leaves the table once both its pumps have stopped.
	for deadline := time.Now().Add(2 * time.Second); p.Conns() > 1 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := p.ResetAll(); n != 1 {
		t.Fatalf("ResetAll reset %d connections, want 1", n)
	}
	if _, err := d.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after ResetAll: %v, want ECONNRESET", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("dial after Close succeeded")
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{{}, {Target: "x:1", Up: Toxics{Slice: -1}}, {Target: "x:1", Down: Toxics{Delay: -1}}} {
		if p, err := New(cfg); err == nil {
			p.Close()
			t.Fatalf("New(%+v) accepted", cfg)
		}
	}
}

// Example proxies a connection to an echo server, cutting the upstream bytes into chunks of at
// most 2 bytes.
func Example() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	go func() {
		c, _ := ln.Accept()
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	p, _ := New(Config{Target: ln.Addr().String(), Seed: 42, Up: Toxics{Slice: 2}})
	defer p.Close()
	c, _ := net.Dial("tcp", p.Addr())
	defer c.Close()
	_, _ = c.Write([]byte("hello"))
	b := make([]byte, 5)
	_, _ = io.ReadFull(c, b)
	fmt.Println(string(b), p.Stats().UpChunks >= 3)
	// Output: hello true
}
