package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// stranger connects, never completes HELLO, and sends one byte of a HELLO every tick until the
// server closes it. With again > 0 it then reconnects after a random pause of again/2..3·again/2,
// until ctx ends. It reports how long each of its connections lived and how the server ended it.
func stranger(ctx context.Context, addr string, tick, again time.Duration, seed uint64, dialed func(), lives chan<- strangerLife) {
	rng := rand.New(rand.NewPCG(seed, 0))
	hello := wire.AppendHello(nil, 1, nil, []byte("stranger"))
	for ctx.Err() == nil {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		dialed()
		if err != nil {
			return
		}
		start := time.Now()
		closed := make(chan wire.Code, 1)
		go func() {
			f, err := wire.NewReader(c, wire.DefaultLimits()).Next()
			if err != nil {
				closed <- 0
				return
			}
			closed <- f.Code
		}()
		var code wire.Code
	feed:
		for i := 0; ; i++ {
			select {
			case code = <-closed:
				break feed
			case <-ctx.Done():
				c.Close()
				<-closed
				return
			case <-time.After(tick):
				j := i % (len(hello) - 1) // never the last byte
				_, _ = c.Write(hello[j : j+1])
			}
		}
		c.Close()
		select {
		case lives <- strangerLife{time.Since(start), code}:
		default:
		}
		if again <= 0 {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(again/2 + time.Duration(rng.Int64N(int64(again)))):
		}
	}
}

type strangerLife struct {
	d    time.Duration
	code wire.Code
}

// TestStrangersCannotHoldSlots: 50 connections that dribble one byte of a HELLO every 100 ms
// cannot keep authorized clients out of a server with --max-conns 50, and are cut at the HELLO
// deadline or evicted by newer ones. Before: the 50 held every slot for as long as they liked
// (any byte refreshed the silence timer) and authorized clients got TOO_MANY_CONNS. Two waves:
// strangers that connect once (the reported attack), then strangers that reconnect about once a
// second when cut (~50 connections/s).
func TestStrangersCannotHoldSlots(t *testing.T) {
	const helloTimeout = 500 * time.Millisecond
	s := startServer(t, func(c *Config) { c.MaxConns = 50; c.HelloTimeout = helloTimeout })
	for _, again := range []time.Duration{0, time.Second} {
		t.Run(fmt.Sprint("reconnect=", again), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			lives := make(chan strangerLife, 1000)
			var wg sync.WaitGroup
			var dialed sync.WaitGroup // each stranger's first dial
			for i := range 50 {
				wg.Add(1)
				dialed.Add(1)
				go func() {
					defer wg.Done()
					stranger(ctx, s.Addr(), 100*time.Millisecond, again, uint64(i), sync.OnceFunc(dialed.Done), lives)
				}()
			}
			t.Cleanup(func() { cancel(); wg.Wait() })
			// Authorized clients come after the first burst of 50 connects: in the middle of a
			// burst a newcomer may be evicted before its HELLO is read, like any connection there.
			dialed.Wait()
			time.Sleep(20 * time.Millisecond)
			for i := range 10 {
				a := helloConn(t, s)
				tok := a.lock(fmt.Sprint("mine-", i))
				a.expectOK(a.release(fmt.Sprint("mine-", i), tok))
				_ = a.c.Close()
				time.Sleep(50 * time.Millisecond)
			}
			// Let the strangers still connected reach their deadline.
			time.Sleep(helloTimeout)
			if n := s.unauth.Load(); n > int64(s.unauthPerLoop) {
				t.Fatalf("%d connections without HELLO, cap %d", n, s.unauthPerLoop)
			}
			cancel()
			wg.Wait()
			close(lives)
			var cut, evicted int
			for l := range lives {
				switch l.code {
				case wire.CodeAuth: // the deadline: not before it, nor much after (sweep every timeout/4)
					cut++
					if l.d < helloTimeout-20*time.Millisecond || l.d > 2*helloTimeout {
						t.Errorf("cut at the HELLO deadline after %v, want ≈ %v", l.d, helloTimeout)
					}
				case wire.CodeTooManyConns:
					evicted++
				default:
					t.Errorf("stranger ended after %v with code %v", l.d, l.code)
				}
			}
			t.Logf("stranger connections cut at the deadline: %d, evicted by newer ones: %d", cut, evicted)
			if again == 0 && cut == 0 {
				t.Fatal("no stranger was cut at the deadline")
			}
		})
	}
}

// TestHelloDeadlineNotRefreshed: bytes before HELLO do not move the deadline, and a client that
// says HELLO in time is then under the heartbeat timeout instead.
func TestHelloDeadlineNotRefreshed(t *testing.T) {
	s := startServer(t, func(c *Config) { c.HelloTimeout = 200 * time.Millisecond })
	c := dial(t, s)
	hello := wire.AppendHello(nil, 1, nil, nil)
	start := time.Now()
	for i := 0; i < len(hello)-1 && time.Since(start) < time.Second; i++ {
		if _, err := c.c.Write(hello[i : i+1]); err != nil {
			break // closed by the server
		}
		time.Sleep(30 * time.Millisecond)
	}
	c.expectError(0, wire.CodeAuth)
	c.expectClosed()
	if d := time.Since(start); d > 600*time.Millisecond {
		t.Fatalf("closed after %v, deadline 200ms", d)
	}
	a := helloConn(t, s)
	time.Sleep(300 * time.Millisecond)
	a.ping() // past the HELLO deadline, but HELLO was said
}

// TestEvictOldestUnauth: at the cap, the oldest connection without HELLO makes room; the new one
// is admitted.
func TestEvictOldestUnauth(t *testing.T) {
	s := startServer(t, func(c *Config) { c.MaxUnauthConns = 2; c.MaxConns = 10 })
	old := dial(t, s)
	waitFor(t, time.Second, func() bool { return s.unauth.Load() == 1 }, "first not counted")
	mid := dial(t, s)
	waitFor(t, time.Second, func() bool { return s.unauth.Load() == 2 }, "second not counted")
	fresh := helloConn(t, s)
	old.expectError(0, wire.CodeTooManyConns)
	old.expectClosed()
	fresh.ping()
	mid.send(wire.AppendHello(nil, 1, nil, nil))
	mid.expect(wire.Welcome)
	waitFor(t, time.Second, func() bool { return s.unauth.Load() == 0 }, "HELLO did not leave the count")
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestBeforeHelloAnswers: whatever whole frame comes before HELLO — a request with a bad name
// length included, which used to get BAD_FRAME — gets AUTH; a second HELLO gets an ERROR and one
// log line before the close.
func TestBeforeHelloAnswers(t *testing.T) {
	logs := &syncBuf{}
	s := startServer(t, func(c *Config) {
		c.MaxName = 8
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	cases := []struct {
		name  string
		input []byte
	}{
		{"acquire", wire.AppendAcquire(nil, 1, []byte("x"), -1, 0)},
		{"name too long", wire.AppendAcquire(nil, 1, []byte("much-too-long"), -1, 0)},
		{"empty name", wire.AppendAcquire(nil, 1, nil, -1, 0)},
		{"status", wire.AppendStatus(nil, 1, nil)},
		{"server frame", wire.AppendGranted(nil, 1, 1)},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s)
			c.send(tt.input)
			c.expectError(0, wire.CodeAuth)
			c.expectClosed()
		})
	}
	t.Run("second hello", func(t *testing.T) {
		before := strings.Count(logs.String(), "second HELLO")
		c := helloConn(t, s)
		c.send(wire.AppendHello(nil, 2, nil, nil))
		f := c.expect(wire.Error)
		if f.Req != 0 || !strings.Contains(string(f.Msg), "second HELLO") {
			t.Fatalf("ERROR %+v", f)
		}
		c.expectClosed()
		if n := strings.Count(logs.String(), "second HELLO") - before; n != 1 {
			t.Fatalf("%d log lines about the second HELLO, want 1:\n%s", n, logs.String())
		}
	})
}
