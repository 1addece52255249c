package server

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// TestMutualExclusionUnderLoad: many connections hammer a few names through both engine modes
// and loop counts; at most one holder per name at any time, and every name's tokens rise in
// grant order. Holders sometimes die instead of releasing, to exercise CloseSession.
func TestMutualExclusionUnderLoad(t *testing.T) {
	conns, cycles := 24, 40
	if testing.Short() {
		conns, cycles = 8, 20
	}
	for _, tc := range []struct {
		loops int
		mode  engineMode
	}{{1, modeSharded}, {2, modeSharded}, {2, modeMutex}} {
		t.Run(fmt.Sprintf("loops=%d/mode=%d", tc.loops, tc.mode), func(t *testing.T) {
			s := startServerMode(t, tc.mode, withLoops(tc.loops))
			names := []string{"n0", "n1", "n2"}
			var holders [3]atomic.Int32
			var mu sync.Mutex // guards lastToken (test bookkeeping only)
			lastToken := map[string]uint64{}
			var wg sync.WaitGroup
			errs := make(chan error, conns)
			for w := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := stressWorker(s.Addr(), w, cycles, names, &holders, &mu, lastToken); err != nil {
						errs <- err
					}
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("workers did not finish in 60s")
			}
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func stressWorker(addr string, w, cycles int, names []string, holders *[3]atomic.Int32,
	mu *sync.Mutex, lastToken map[string]uint64) error {
	bc, err := dialRaw(addr)
	if err != nil {
		return err
	}
	defer func() { _ = bc.c.Close() }()
	for i := 0; i < cycles; i++ {
		k := (w + i) % len(names)
		name := []byte(names[k])
		bc.req++
		if err := bc.write(wire.AppendAcquire(nil, bc.req, name, int64(10*time.Second), 0)); err != nil {
			return err
		}
		tok, err := bc.until(wire.Granted)
		if err != nil {
			return fmt.Errorf("worker %d cycle %d: %w", w, i, err)
		}
		if n := holders[k].Add(1); n != 1 {
			return fmt.Errorf("worker %d: %d holders of %s", w, n, name)
		}
		mu.Lock()
		if tok <= lastToken[names[k]] {
			mu.Unlock()
			return fmt.Errorf("worker %d: token %d of %s not above %d", w, tok, name, lastToken[names[k]])
		}
		lastToken[names[k]] = tok
		mu.Unlock()
		holders[k].Add(-1)
		if i == cycles/2 && w%5 == 0 {
			// Die holding the lock: the server must hand it on. Mark it released first, since
			// the server may grant the next waiter before this goroutine gets to run again.
			_ = bc.c.Close()
			if bc, err = dialRaw(addr); err != nil {
				return err
			}
			continue
		}
		bc.req++
		if err := bc.write(wire.AppendRelease(nil, bc.req, name, tok)); err != nil {
			return err
		}
		if _, err := bc.until(wire.OK); err != nil {
			return fmt.Errorf("worker %d release: %w", w, err)
		}
	}
	return nil
}

// dialRaw is benchDial without testing.B: a blocking client past HELLO.
func dialRaw(addr string) (*benchConn, error) {
	c, err := netDial(addr)
	if err != nil {
		return nil, err
	}
	bc := &benchConn{c: c, r: wire.NewReader(c, wire.DefaultLimits())}
	if err := bc.write(wire.AppendHello(nil, 1, nil, nil)); err != nil {
		return nil, err
	}
	if f, err := bc.r.Next(); err != nil || f.Type != wire.Welcome {
		_ = c.Close()
		return nil, fmt.Errorf("hello: %v", err)
	}
	return bc, nil
}
