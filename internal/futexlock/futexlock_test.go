//go:build linux

package futexlock

import (
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Goroutines of one process share the mapping as processes would; a non-atomic counter loses
// updates if two holders ever overlap, and tickets (tokens) must come out in order.
func TestExclusionAndFIFOTokens(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		ops     int
		wait    Wait
	}{
		{"alone", 1, 2000, WaitScheduled},
		{"alone raw", 1, 2000, WaitRaw},
		{"eight", 8, 500, WaitScheduled}, // goroutines of one process: only WaitScheduled is safe
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Map(filepath.Join(t.TempDir(), "lock"), 2*tt.workers+2, tt.wait)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.Close() })
			// The race detector does not see the mapping's atomics as synchronisation, so the
			// checks are atomics too: an occupancy that is not 1 inside is an overlap.
			var (
				inside, counter, bad atomic.Int64
				last                 atomic.Uint64
				wg                   sync.WaitGroup
			)
			for range tt.workers {
				wg.Go(func() {
					for range tt.ops {
						tk, err := l.Acquire(time.Now().Add(10*time.Second), nil)
						if err != nil {
							t.Error(err)
							return
						}
						if inside.Add(1) != 1 || (counter.Load() > 0 && tk <= last.Load()) {
							bad.Add(1)
						}
						last.Store(tk)
						counter.Add(1)
						inside.Add(-1)
						l.Release(tk)
					}
				})
			}
			wg.Wait()
			if counter.Load() != int64(tt.workers*tt.ops) || bad.Load() != 0 {
				t.Fatalf("counter %d, want %d; %d overlaps or tickets out of order", counter.Load(), tt.workers*tt.ops, bad.Load())
			}
		})
	}
}

// A waiter whose deadline passes gives up without holding, and the lock still passes on: the
// releaser skips the abandoned ticket.
func TestAbandonedTicketIsSkipped(t *testing.T) {
	l, err := Map(filepath.Join(t.TempDir(), "lock"), 8, WaitScheduled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	held, err := l.Acquire(time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(time.Now().Add(20*time.Millisecond), nil); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("timed-out Acquire: %v, want ErrGaveUp", err)
	}
	done := make(chan struct{})
	close(done)
	if _, err := l.Acquire(time.Time{}, done); !errors.Is(err, ErrGaveUp) {
		t.Fatalf("cancelled Acquire: %v, want ErrGaveUp", err)
	}
	if _, ok := l.TryAcquire(); ok {
		t.Fatal("TryAcquire took a held lock")
	}
	l.Release(held)
	next, err := l.Acquire(time.Now().Add(5*time.Second), nil)
	if err != nil {
		t.Fatalf("after two abandoned tickets: %v", err)
	}
	l.Release(next)
	tk, ok := l.TryAcquire()
	if !ok {
		t.Fatal("TryAcquire failed on a free lock")
	}
	l.Release(tk)
}

func TestMapRejectsOtherSlotCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := Map(path, 8, WaitScheduled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	if _, err := Map(path, 16, WaitScheduled); !errors.Is(err, ErrFile) {
		t.Fatalf("Map with another slot count: %v, want ErrFile", err)
	}
	if _, err := Map(path, 1, WaitScheduled); !errors.Is(err, ErrFile) {
		t.Fatalf("Map with 1 slot: %v, want ErrFile", err)
	}
}
