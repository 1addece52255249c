package server

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/wwly/wwly/wire"
)

// benchConn is a blocking client for benchmarks: plain net.Conn, frames decoded in place.
type benchConn struct {
	c   net.Conn
	r   *wire.Reader
	out []byte
	req uint64
}

func benchDial(b *testing.B, addr string) *benchConn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	bc := &benchConn{c: c, r: wire.NewReader(c, wire.DefaultLimits())}
	bc.write(wire.AppendHello(nil, 1, nil, nil))
	if f, err := bc.r.Next(); err != nil || f.Type != wire.Welcome {
		b.Fatalf("hello: %v %v", f, err)
	}
	return bc
}

func netDial(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }

func (bc *benchConn) write(p []byte) error { _, err := bc.c.Write(p); return err }

// until reads frames until one of type typ arrives and returns a copy of its token.
func (bc *benchConn) until(typ wire.Type) (uint64, error) {
	for {
		f, err := bc.r.Next()
		if err != nil {
			return 0, err
		}
		if f.Type == typ {
			return f.Token, nil
		}
		if f.Type == wire.Error {
			return 0, fmt.Errorf("ERROR %v %s", f.Code, f.Msg)
		}
	}
}

// cycles runs n acquire/release cycles on name, each RELEASE pipelined with the next ACQUIRE
// in one write, so an uncontended cycle costs one round trip.
func (bc *benchConn) cycles(name []byte, n int) error {
	bc.req++
	if err := bc.write(wire.AppendAcquire(bc.out[:0], bc.req, name, -1, 0)); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		tok, err := bc.until(wire.Granted)
		if err != nil {
			return err
		}
		bc.req++
		bc.out = wire.AppendRelease(bc.out[:0], bc.req, name, tok)
		if i < n-1 {
			bc.req++
			bc.out = wire.AppendAcquire(bc.out, bc.req, name, -1, 0)
		}
		if err := bc.write(bc.out); err != nil {
			return err
		}
	}
	_, err := bc.until(wire.OK)
	return err
}

// BenchmarkCycle: one connection, acquire+release pipelined: one loopback round trip per op.
// Compare with BenchmarkEchoRTT from the same run.
func BenchmarkCycle(b *testing.B) {
	for _, loops := range []int{1, 2} {
		b.Run(fmt.Sprintf("loops=%d", loops), func(b *testing.B) {
			s := startServer(b, withLoops(loops))
			bc := benchDial(b, s.Addr())
			name := []byte("cycle")
			b.ResetTimer()
			if err := bc.cycles(name, b.N); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
		})
	}
}

// echoServer is the floor: a gnet server that echoes bytes back, nothing else.
type echoServer struct {
	gnet.BuiltinEventEngine
	booted chan gnet.Engine
}

func (e *echoServer) OnBoot(eng gnet.Engine) gnet.Action { e.booted <- eng; return gnet.None }

func (e *echoServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	_ = c.SetNoDelay(true)
	return nil, gnet.None
}

func (e *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

// BenchmarkEchoRTT: a raw 16-byte loopback round trip through a gnet echo server.
func BenchmarkEchoRTT(b *testing.B) {
	addr, err := claimAddr("127.0.0.1:0", 2)
	if err != nil {
		b.Fatal(err)
	}
	es := &echoServer{booted: make(chan gnet.Engine, 1)}
	done := make(chan error, 1)
	go func() {
		done <- gnet.Run(es, "tcp://"+addr, gnet.WithLogger(gnetLogger{testLogger(b)}))
	}()
	var eng gnet.Engine
	select {
	case eng = <-es.booted:
	case err := <-done:
		b.Fatal(err)
	}
	b.Cleanup(func() {
		go func() { _ = eng.Stop(b.Context()) }()
		<-done
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 16)
	in := make([]byte, 16)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		binary.BigEndian.PutUint64(msg, uint64(i))
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rtt/s")
}

// BenchmarkEngineMode compares the lock-free sharded design with one engine behind a mutex:
// W client connections doing acquire/release cycles, on one hot lock or on W distinct names.
func BenchmarkEngineMode(b *testing.B) {
	modes := []struct {
		name string
		mode engineMode
	}{{"sharded", modeSharded}, {"mutex", modeMutex}}
	for _, workload := range []string{"hot", "spread"} {
		for _, loops := range []int{1, 2} {
			for _, m := range modes {
				b.Run(fmt.Sprintf("%s/loops=%d/%s", workload, loops, m.name), func(b *testing.B) {
					benchWorkers(b, startServerMode(b, m.mode, withLoops(loops)), 8, workload == "hot")
				})
			}
		}
	}
}

// benchWorkers runs b.N cycles split over w connections.
func benchWorkers(b *testing.B, s *Server, w int, hot bool) {
	conns := make([]*benchConn, w)
	for i := range conns {
		conns[i] = benchDial(b, s.Addr())
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, w)
	for i, bc := range conns {
		n := b.N / w
		if i < b.N%w {
			n++
		}
		if n == 0 {
			continue
		}
		name := []byte("hot")
		if !hot {
			name = fmt.Appendf(nil, "name-%d", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := bc.cycles(name, n); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
