package server

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// TCP may hand the server any frame in several reads. These tests cut the byte stream
// themselves on real loopback sockets, with a pause between the pieces long enough for the
// server to read each piece on its own.

// splitPause separates the pieces of a cut stream so the server reads them separately.
const splitPause = 2 * time.Millisecond

// TestSplitFrame: a valid ACQUIRE written as 13 bytes, then the rest 50 ms later, is granted
// (it used to be answered "malformed frame: length 0 under minimum 9" and the connection
// closed: the server dropped the buffered 13 bytes).
func TestSplitFrame(t *testing.T) {
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		cases := []struct {
			name string
			cut  int // bytes of the frame written first
		}{
			{"inside the length", 2},
			{"after the length", 4},
			{"inside the header", 7},
			{"13 bytes", 13},
			{"inside the name", 30},
			{"all but one byte", -1},
		}
		for i, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				a := helloConn(t, s)
				req := a.id()
				frame := wire.AppendAcquire(nil, req, []byte(fmt.Sprintf("split-%d", i)), -1, 0)
				cut := tt.cut
				if cut < 0 {
					cut += len(frame)
				}
				a.send(frame[:cut])
				time.Sleep(50 * time.Millisecond)
				a.send(frame[cut:])
				a.granted(req)
				a.ping()
			})
		}
	})
}

// TestSplitHello: the handshake itself arrives in two pieces.
func TestSplitHello(t *testing.T) {
	s := startServer(t, nil)
	for cut := 1; cut < len(wire.AppendHello(nil, 1, nil, []byte("split"))); cut++ {
		c := dial(t, s)
		hello := wire.AppendHello(nil, c.id(), nil, []byte("split"))
		c.send(hello[:cut])
		time.Sleep(splitPause)
		c.send(hello[cut:])
		c.expect(wire.Welcome)
		c.ping()
		_ = c.c.Close()
	}
}

// pipelinedBatch is n ACQUIREs of distinct names of one length (so every batch has the same
// size), req ids 1..n, for the connection numbered conn.
func pipelinedBatch(conn, n int) []byte {
	var b []byte
	for i := range n {
		b = wire.AppendAcquire(b, uint64(i+1), []byte(fmt.Sprintf("c%05d-lock-%02d", conn, i)), -1, 0)
	}
	return b
}

// TestPipelinedBatchSplitEverywhere writes a pipelined batch of 24 ACQUIREs cut in two at every
// byte offset, one connection per offset on one server, and checks that each connection gets
// exactly its 24 GRANTEDs. Offsets are spread over a few concurrent connections to stay fast.
func TestPipelinedBatchSplitEverywhere(t *testing.T) {
	const batch = 24
	forLoops(t, func(t *testing.T, loops int) {
		s := startServer(t, withLoops(loops))
		size := len(pipelinedBatch(0, batch))
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, size)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for off := 1 + w; off < size; off += workers {
					if err := splitBatchOnce(s.Addr(), off, pipelinedBatch(off, batch), batch); err != nil {
						errs <- fmt.Errorf("cut at %d of %d: %w", off, size, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// splitBatchOnce sends HELLO, then b cut at off with a pause, and expects n GRANTEDs for
// requests 1..n (in any order: with several loops grants come back from other loops).
func splitBatchOnce(addr string, off int, b []byte, n int) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(wire.AppendHello(nil, 1000, nil, nil)); err != nil {
		return err
	}
	r := wire.NewReader(c, wire.DefaultLimits())
	if f, err := r.Next(); err != nil || f.Type != wire.Welcome {
		return fmt.Errorf("handshake: %v %v", f, err)
	}
	if _, err := c.Write(b[:off]); err != nil {
		return err
	}
	time.Sleep(splitPause)
	if _, err := c.Write(b[off:]); err != nil {
		return err
	}
	seen := make(map[uint64]bool, n)
	for len(seen) < n {
		f, err := r.Next()
		if err != nil {
			return fmt.Errorf("after %d grants: %w", len(seen), err)
		}
		if f.Type != wire.Granted || f.Req < 1 || f.Req > uint64(n) || seen[f.Req] {
			return fmt.Errorf("after %d grants got %v req %d code %v %q", len(seen), f.Type, f.Req, f.Code, f.Msg)
		}
		seen[f.Req] = true
	}
	return nil
}

// TestLargeStatusRequestInPieces: a STATUS naming many long names is a frame of ~60 KB, which
// loopback delivers in several reads; it must be answered, again and again, and the reply (also
// large) must decode.
func TestLargeStatusRequestInPieces(t *testing.T) {
	s := startServer(t, nil)
	a := helloConn(t, s)
	var names [][]byte
	for i := 0; ; i++ {
		n := []byte(fmt.Sprintf("%0200d", i))
		names = append(names, n)
		if len(wire.AppendStatus(nil, 1, append(names, n))) > s.cfg.MaxFrame {
			break
		}
	}
	for _, n := range names[:100] {
		a.lock(string(n))
	}
	for range 20 {
		req := a.id()
		frame := wire.AppendStatus(nil, req, names)
		// Cut into pieces of 1000 bytes, paused, so reads end inside names and lengths.
		for len(frame) > 0 {
			k := min(len(frame), 1000+int(req%7))
			a.send(frame[:k])
			frame = frame[k:]
			if req%4 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		f := a.expect(wire.StatusReply)
		if f.Req != req || len(f.Locks) != 100 {
			t.Fatalf("STATUS reply req %d with %d locks, want req %d with 100", f.Req, len(f.Locks), req)
		}
	}
}
