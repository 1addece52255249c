package loadgen

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func newTestWitness(t *testing.T, slots int) (*Witness, *Witness) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shm")
	a, err := CreateWitness(path, slots)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	b, err := OpenWitness(path) // a second mapping, as another process would have
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return a, b
}

// Interleavings are played step by step, as two holders in two processes would, so each check
// is shown to fire (and to stay quiet) deterministically.
func TestWitnessCatchesOverlap(t *testing.T) {
	a, b := newTestWitness(t, 4)
	if !a.Enter(1) {
		t.Fatal("first Enter flagged")
	}
	if b.Enter(1) {
		t.Fatal("overlapping Enter on the same name not flagged")
	}
	if !b.Enter(2) {
		t.Fatal("Enter on another name flagged")
	}
	b.Leave(1)
	a.Leave(1)
	b.Leave(2)
	if !a.Enter(1) {
		t.Fatal("Enter after both left flagged")
	}
	a.Leave(1)
	if got := a.Report().Witness; got != 1 {
		t.Fatalf("witness violations = %d, want 1", got)
	}
}

func TestBalanceCatchesLostUpdate(t *testing.T) {
	a, b := newTestWitness(t, 1)
	// Two clean sections, one after the other.
	for _, w := range []*Witness{a, b} {
		w.BalanceWrite(0, w.BalanceRead(0)+1)
	}
	if r := a.Report(); r.Violations(2) != 0 {
		t.Fatalf("clean run reported %+v", r)
	}
	// Two overlapping sections: both read 2, both write 3.
	va, vb := a.BalanceRead(0), b.BalanceRead(0)
	a.BalanceWrite(0, va+1)
	b.BalanceWrite(0, vb+1)
	r := a.Report()
	if got := r.LostUpdates(4); got != 1 {
		t.Fatalf("lost updates = %d, want 1 (report %+v)", got, r)
	}
	if got := r.Violations(4); got != 1 {
		t.Fatalf("violations = %d, want 1", got)
	}
}

func TestTokenCheckCatchesNonRisingToken(t *testing.T) {
	tests := []struct {
		name   string
		tokens []uint64
		want   int64
	}{
		{name: "rising", tokens: []uint64{1, 2, 5, 9}, want: 0},
		{name: "repeat", tokens: []uint64{1, 2, 2, 3}, want: 1},
		{name: "backwards", tokens: []uint64{4, 3, 5}, want: 1},
		{name: "zero first", tokens: []uint64{0}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newTestWitness(t, 2)
			for k, tok := range tt.tokens {
				w := a
				if k%2 == 1 {
					w = b
				}
				w.CheckToken(1, tok)
			}
			if got := a.Report().Token; got != tt.want {
				t.Fatalf("token violations = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestOpenWitnessRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk")
	if err := writeFile(path, make([]byte, 256)); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWitness(path); err == nil {
		t.Fatal("OpenWitness accepted a file without the magic")
	}
	if _, err := OpenWitness(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("OpenWitness accepted a missing file")
	}
}

// The start barrier: every waiter, in any mapping, leaves with the published instant; a waiter
// whose context ends leaves with an error instead of hanging.
func TestWitnessBarrier(t *testing.T) {
	a, b := newTestWitness(t, 1)
	start := time.Now().Add(time.Second).Round(0)
	const n = 8
	got := make(chan time.Time, n)
	for i := range n {
		w := a
		if i%2 == 1 {
			w = b
		}
		go func() {
			at, err := w.WaitStart(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- at
		}()
	}
	time.Sleep(20 * time.Millisecond) // let some of them block in futex(2); correctness does not depend on it
	if err := a.Release(start); err != nil {
		t.Fatal(err)
	}
	for range n {
		select {
		case at := <-got:
			if !at.Equal(start) {
				t.Fatalf("waiter got %v, want %v", at, start)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter was not released")
		}
	}

	c, _ := newTestWitness(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.WaitStart(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitStart without Release = %v, want deadline exceeded", err)
	}
}
