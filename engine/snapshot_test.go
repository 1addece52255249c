package engine

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("engine.update", false, "rewrite engine/testdata golden files")

// sameEngines compares the pending events and the observable state of a and b.
func sameEngines(a, b *Engine, now int64) error {
	ae, be := a.Events(), b.Events()
	if !slices.EqualFunc(ae, be, sameEvent) {
		return fmt.Errorf("events differ:\noriginal %v\nrestored %v", ae, be)
	}
	if as, bs := a.Stats(), b.Stats(); as != bs {
		return fmt.Errorf("stats differ: %+v vs %+v", as, bs)
	}
	aw, aok := a.NextDeadline()
	bw, bok := b.NextDeadline()
	if aw != bw || aok != bok {
		return fmt.Errorf("NextDeadline differs: %d,%v vs %d,%v", aw, aok, bw, bok)
	}
	if al, bl := collect(a, now), collect(b, now); !slices.Equal(al, bl) {
		return fmt.Errorf("Locks differ:\noriginal %+v\nrestored %+v", al, bl)
	}
	if a.Epoch() != b.Epoch() {
		return fmt.Errorf("epoch differs: %d vs %d", a.Epoch(), b.Epoch())
	}
	if sa, sb := a.AppendSnapshot(nil), b.AppendSnapshot(nil); !bytes.Equal(sa, sb) {
		return errors.New("snapshots of equal states differ")
	}
	return b.check()
}

// runSnapshot drives an engine (checked against the model) with the choices of c, restores a
// snapshot taken at a random step into a fresh engine, and drives both on with the same ops.
func runSnapshot(c chooser, steps int) error {
	cfg := Config{QueueCap: 1 + c.intn(2), MaxWaiters: 3 + c.intn(3), MaxName: 4, Epoch: uint32(c.intn(3)),
		MaxHolds: c.intn(5), Handoff: Handoff{Barge: c.intn(4)}} // a barge streak crosses the snapshot
	e, err := New(cfg)
	if err != nil {
		return err
	}
	m, err := NewModel(cfg)
	if err != nil {
		return err
	}
	if c.intn(4) == 0 { // near the end of the epoch, so that EpochBumped crosses the snapshot
		e.counter = counterMask - uint64(c.intn(8))
		m.counter = e.counter
	}
	at := c.intn(steps)
	d := &driver{c: c}
	var r *Engine
	for i := 0; i < steps && !c.done(); i++ {
		if i == at {
			if r, err = New(cfg); err != nil {
				return err
			}
			r.hashMask = 1 // another table layout: nothing observable may depend on it
			snap := e.AppendSnapshot(nil)
			if err := r.Restore(snap); err != nil {
				return fmt.Errorf("restore at step %d: %w", i, err)
			}
			if again := r.AppendSnapshot(nil); !bytes.Equal(snap, again) {
				return fmt.Errorf("snapshot at step %d does not round-trip", i)
			}
		}
		ms := []machine{e, m}
		if r != nil {
			ms = append(ms, r)
		}
		d.step(ms...)
		if r != nil {
			if err := sameEngines(e, r, d.now); err != nil {
				return fmt.Errorf("step %d (restored at %d): %w\nlast ops:\n  %s", i, at, err,
					strings.Join(d.trace[max(0, len(d.trace)-30):], "\n  "))
			}
			r.ClearEvents()
		}
		if err := d.compare(e, m); err != nil {
			return err
		}
	}
	return nil
}

func TestSnapshotContinues(t *testing.T) {
	seeds := 200
	if raceEnabled || testing.Short() {
		seeds = 40
	}
	for seed := range uint64(seeds) {
		c := &randChooser{r: rand.New(rand.NewPCG(seed, 0x5a_aa)), left: 1 << 30}
		if err := runSnapshot(c, 300); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func TestRestoreRejects(t *testing.T) {
	e, _ := New(DefaultConfig())
	e.Acquire(0, 1, 1, []byte("a"), 0, time.Second)
	e.Acquire(0, 2, 1, []byte("a"), -1, 0)
	good := e.AppendSnapshot(nil)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"magic", append([]byte("xwlysnap"), good[8:]...)},
		{"version", append([]byte(snapshotMagic+"\x03"), good[9:]...)},
		{"barge streak", func() []byte {
			odd, _ := New(DefaultConfig())
			odd.Acquire(0, 1, 1, []byte("a"), 0, 0)
			odd.lookup([]byte("a")).barges = MaxBarge + 1 // more than any engine allows
			return odd.AppendSnapshot(nil)
		}()},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(slices.Clone(good), 0)},
		{"name too long", func() []byte {
			big, _ := New(Config{QueueCap: 1, MaxWaiters: 1, MaxName: 300, Epoch: 1})
			big.Acquire(0, 1, 1, bytes.Repeat([]byte("n"), 300), 0, 0)
			return big.AppendSnapshot(nil)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := New(DefaultConfig())
			r.Acquire(0, 9, 9, []byte("keep"), 0, 0)
			before := r.AppendSnapshot(nil)
			if err := r.Restore(tt.data); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Restore: %v, want ErrSnapshot", err)
			}
			if !bytes.Equal(before, r.AppendSnapshot(nil)) {
				t.Fatal("a failed Restore changed the engine")
			}
		})
	}
}

// goldenState builds a state with every record type of the format, for the golden file.
// With barge, the mutex's holder has re-taken it once while another waits (version 2's streak).
func goldenState(t testing.TB, barge bool) *Engine {
	cfg := DefaultConfig()
	cfg.Handoff = Handoff{Barge: 2}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Acquire(10, 1, 1, []byte("mutex"), 0, 5*time.Second)
	e.Acquire(11, 2, 1, []byte("mutex"), time.Second, 0)
	if barge {
		e.ReleaseAcquire(11, 1, 9, []byte("mutex"), e.Events()[0].Token, 1, -1, 5*time.Second)
	}
	e.AcquireKind(12, 1, 2, Op{Prim: PrimSemaphore, Name: []byte("sem"), N: 2, Value: 3})
	e.AcquireKind(13, 2, 2, Op{Prim: PrimSemaphore, Name: []byte("sem"), N: 2, Value: 3, Wait: -1})
	e.AcquireKind(14, 3, 1, Op{Prim: PrimRWMutex, Name: []byte("rw"), Shared: true})
	e.Open(15, 3, 2, Op{Prim: PrimEvent, Name: []byte("ev")})
	e.Signal(16, 3, 3, ActSet, Op{Prim: PrimEvent, Name: []byte("ev")})
	e.AcquireKind(17, 3, 4, Op{Prim: PrimRLock, Name: []byte("rl"), Owner: 7})
	e.AcquireKind(18, 3, 5, Op{Prim: PrimCondition, Name: []byte("cv"), Lock: []byte("rl"), Owner: 7, Wait: time.Second})
	e.ClearEvents()
	return e
}

// TestSnapshotGolden pins the format of the current version, and checks that a version 1
// snapshot (no barge streak) still restores to the state it was taken from.
func TestSnapshotGolden(t *testing.T) {
	e := goldenState(t, true)
	got := hex.Dump(e.AppendSnapshot(nil))
	path := filepath.Join("testdata", "snapshot_v2.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -engine.update to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("snapshot format changed; if intended, bump SnapshotVersion and run -engine.update\ngot:\n%s", got)
	}
	v1, err := os.ReadFile(filepath.Join("testdata", "snapshot_v1.golden"))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := New(DefaultConfig())
	if err := r.Restore(undump(t, string(v1))); err != nil {
		t.Fatalf("version 1 snapshot: %v", err)
	}
	if want := goldenState(t, false).AppendSnapshot(nil); !bytes.Equal(r.AppendSnapshot(nil), want) {
		t.Fatal("version 1 snapshot restored to another state")
	}
}

// undump reads the bytes back from hex.Dump's output (the 16 bytes between offset and text).
func undump(t *testing.T, dump string) []byte {
	var out []byte
	for _, line := range strings.Split(strings.TrimRight(dump, "\n"), "\n") {
		if len(line) < 10 {
			continue
		}
		hexPart, _, _ := strings.Cut(line[10:], "  |")
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			t.Fatalf("golden line %q: %v", line, err)
		}
		out = append(out, b...)
	}
	return out
}

func FuzzRestore(f *testing.F) {
	f.Add([]byte{})
	f.Add(goldenState(f, true).AppendSnapshot(nil))
	for seed := range uint64(6) {
		c := &randChooser{r: rand.New(rand.NewPCG(seed, 3)), left: 1 << 30}
		cfg := Config{QueueCap: 1, MaxWaiters: 4, MaxName: 4, Epoch: 1}
		e, _ := New(cfg)
		d := &driver{c: c}
		for range 60 {
			d.step(e)
			e.ClearEvents()
		}
		f.Add(e.AppendSnapshot(nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{QueueCap: 1, MaxWaiters: 4, MaxName: 4, Epoch: 1}
		e, _ := New(cfg)
		if err := e.Restore(data); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		snap := e.AppendSnapshot(nil)
		r, _ := New(cfg)
		if err := r.Restore(snap); err != nil {
			t.Fatalf("re-encoded snapshot rejected: %v", err)
		}
		if !bytes.Equal(snap, r.AppendSnapshot(nil)) {
			t.Fatal("re-encoded snapshot does not round-trip")
		}
		// An accepted state must stay sound under further operations.
		d := &driver{c: &randChooser{r: rand.New(rand.NewPCG(uint64(len(data)), 9)), left: 1 << 30}}
		for range 40 {
			d.step(e)
			if err := e.check(); err != nil {
				t.Fatalf("after %s: %v", d.trace[len(d.trace)-1], err)
			}
			e.ClearEvents()
		}
	})
}

// TestSnapshotLarge: many waiters on one name and many holds of one semaphore round-trip
// (the decoder's count bounds must not refuse records of the smallest size).
func TestSnapshotLarge(t *testing.T) {
	e, _ := New(DefaultConfig())
	e.Acquire(0, 1, 1, []byte("m"), -1, 0)
	for s := range SessionID(2000) {
		e.Acquire(0, s+2, 1, []byte("m"), -1, 0)
		e.AcquireKind(0, s+2, 2, Op{Prim: PrimSemaphore, Name: []byte("s"), N: 1, Value: 5000})
	}
	e.ClearEvents()
	snap := e.AppendSnapshot(nil)
	r, _ := New(DefaultConfig())
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.Status(0, []byte("m")); st.Waiters != 2000 {
		t.Fatalf("m has %d waiters after restore, want 2000", st.Waiters)
	}
	if !bytes.Equal(snap, r.AppendSnapshot(nil)) {
		t.Fatal("large snapshot does not round-trip")
	}
}
