package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wwly/wwly/faultproxy"
)

// startProxy puts a fault proxy in front of addr until the test ends.
func startProxy(tb testing.TB, addr string, cfg faultproxy.Config) *faultproxy.Proxy {
	tb.Helper()
	cfg.Target = addr
	p, err := faultproxy.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// slicing cuts both directions into chunks of 1..3 bytes, with a small delay upstream.
func slicing(seed uint64) faultproxy.Config {
	return faultproxy.Config{
		Seed: seed,
		Up:   faultproxy.Toxics{Slice: 3, Delay: 10 * time.Microsecond},
		Down: faultproxy.Toxics{Slice: 3},
	}
}

// TestMutexOverSlicingProxy: Lock/Unlock/Status through a proxy that cuts every frame into
// pieces, with several clients contending, keeps mutual exclusion and rising tokens.
func TestMutexOverSlicingProxy(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("proxy seed %d", seed)
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			p := startProxy(t, startServer(t, nil), slicing(seed))
			const clients, rounds = 4, 25
			var (
				mu        sync.Mutex
				inside    int
				lastToken uint64
				wg        sync.WaitGroup
			)
			errs := make(chan error, clients)
			for i := range clients {
				c := dial(t, p.Addr(), WithIOMode(mode), WithClientName(fmt.Sprint("c", i)))
				wg.Add(1)
				go func() {
					defer wg.Done()
					m := c.Mutex("sliced")
					for range rounds {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						err := m.LockContext(ctx)
						cancel()
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						inside++
						tok := m.Token()
						bad := inside != 1 || tok <= lastToken
						lastToken = tok
						mu.Unlock()
						if bad {
							errs <- fmt.Errorf("exclusion or token order broken at token %d", tok)
						}
						mu.Lock()
						inside--
						mu.Unlock()
						m.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			c := dial(t, p.Addr(), WithIOMode(mode))
			m := c.Mutex("sliced")
			m.Lock()
			infos, err := c.Status(context.Background(), "sliced")
			if err != nil || len(infos) != 1 || infos[0].Holder != c.Session() {
				t.Fatalf("Status: %+v, %v", infos, err)
			}
			if err := m.UnlockContext(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLargeStatusOverSlicingProxy: STATUS requests and replies of ~60 KB, which TCP delivers in
// many reads (here cut into pieces of up to 3 bytes, or as the kernel cuts them), come back
// whole on every one of many concurrent connections.
func TestLargeStatusOverSlicingProxy(t *testing.T) {
	addr := startServer(t, nil)
	holder := dial(t, addr)
	var names []string
	for i := range 250 {
		n := fmt.Sprintf("%0200d", i)
		names = append(names, n)
		if err := holder.Mutex(n).LockContext(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	p := startProxy(t, addr, faultproxy.Config{Seed: 3, Up: faultproxy.Toxics{Slice: 1500}, Down: faultproxy.Toxics{Slice: 700}})
	for _, target := range []string{addr, p.Addr()} {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 16 {
			c := dial(t, target)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					infos, err := c.Status(ctx, names...)
					cancel()
					if err != nil || len(infos) != len(names) {
						errs <- fmt.Errorf("Status: %d locks, %v", len(infos), err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("via %s: %v", target, err)
		}
	}
}

// TestResetSurfacesAsClosed: a connection reset while a lock is held and another acquire waits
// ends both promptly — the held Mutex is lost, the waiter fails with ErrClosed — never a hang.
func TestResetSurfacesAsClosed(t *testing.T) {
	for _, mode := range ioModes {
		t.Run(mode.String(), func(t *testing.T) {
			p := startProxy(t, startServer(t, nil), slicing(11))
			c := dial(t, p.Addr(), WithIOMode(mode))
			held := c.Mutex("held")
			if err := held.LockContext(context.Background()); err != nil {
				t.Fatal(err)
			}
			waitErr := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				waitErr <- c.Mutex("held").LockContext(ctx) // another Mutex on the same name waits
			}()
			eventually(t, 2*time.Second, "waiter queued", func() bool {
				infos, err := c.Status(context.Background(), "held")
				return err == nil && len(infos) == 1 && infos[0].Waiters == 1
			})
			p.ResetAll()
			waitClosed(t, held.Lost(), 2*time.Second, "Lost after reset")
			waitClosed(t, c.Done(), 2*time.Second, "Done after reset")
			select {
			case err := <-waitErr:
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("waiting acquire after reset: %v, want ErrClosed", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("waiting acquire hangs after reset")
			}
			if err := held.Release(); !errors.Is(err, ErrLost) {
				t.Fatalf("Release after reset: %v, want ErrLost", err)
			}
			if _, err := c.Status(context.Background()); !errors.Is(err, ErrClosed) {
				t.Fatalf("Status after reset: %v, want ErrClosed", err)
			}
		})
	}
}
