package replica

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wwly/wwly/engine"
)

// gen makes random entries against a few names and sessions, aiming releases at real tokens.
type gen struct {
	r      *rand.Rand
	now    int64
	nsess  int
	grants []engine.Event
}

func (g *gen) entry() Entry {
	g.now += int64(g.r.IntN(40)) - 8 // sometimes backwards: the FSM must not follow
	en := Entry{Now: g.now}
	for range 1 + g.r.IntN(6) {
		en.Commands = append(en.Commands, g.command())
	}
	return en
}

func (g *gen) command() Command {
	s := engine.SessionID(1 + g.r.IntN(max(g.nsess, 1)+1)) // sometimes one not open yet
	name := []byte{"abc"[g.r.IntN(3)]}
	req := uint64(1 + g.r.IntN(8))
	dur := func() time.Duration { return time.Duration(g.r.IntN(4)-1) * 10 }
	switch k := g.r.IntN(12); {
	case k == 0 || g.nsess == 0:
		g.nsess++
		return Command{Op: OpOpenSession, Secret: fmt.Appendf(nil, "secret-%d", g.nsess)}
	case k < 4:
		return Command{Op: OpAcquire, Session: s, Req: req, Name: name, Wait: dur(), TTL: dur()}
	case k < 6 && len(g.grants) > 0:
		ev := g.grants[len(g.grants)-1-g.r.IntN(min(len(g.grants), 4))]
		return Command{Op: OpRelease, Session: ev.Session, Req: req, Name: ev.Name, Token: ev.Token}
	case k == 6:
		return Command{Op: OpCancel, Session: s, Req: req, Target: uint64(1 + g.r.IntN(8))}
	case k == 7:
		return Command{Op: OpCloseSession, Session: s}
	case k == 8:
		op := engine.Op{Prim: engine.PrimSemaphore, Name: []byte("sem"), N: 1, Value: 2, Wait: dur()}
		return Command{Op: OpAcquireKind, Session: s, Req: req, Kind: op}
	case k == 9:
		op := engine.Op{Prim: engine.PrimSemaphore, Name: []byte("sem"), N: 1, Value: 2}
		return Command{Op: OpReleaseKind, Session: s, Req: req, Kind: op}
	}
	return Command{Op: OpTick}
}

func (g *gen) record(ap *Applied) {
	for _, res := range ap.Results {
		for _, ev := range res.Events {
			if ev.Kind == engine.Granted && ev.Token != 0 {
				g.grants = append(g.grants, ev)
			}
		}
	}
}

// snapshotThrough persists f's snapshot in raft's in-memory snapshot store and restores it
// into a fresh FSM, as raft does when it installs a snapshot on a follower.
func snapshotThrough(t *testing.T, f *FSM) *FSM {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	store := raft.NewInmemSnapshotStore()
	_, trans := raft.NewInmemTransport("")
	sink, err := store.Create(raft.SnapshotVersionMax, 1, 1, raft.Configuration{}, 1, trans)
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	_, rc, err := store.Open(sink.ID())
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewFSM(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Restore(rc); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestFSMRestoredContinues(t *testing.T) {
	seeds := 30
	if testing.Short() {
		seeds = 10
	}
	for seed := range uint64(seeds) {
		g := &gen{r: rand.New(rand.NewPCG(seed, 42))}
		a, err := NewFSM(engine.DefaultConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var b *FSM
		at := g.r.IntN(150)
		for i := range 200 {
			if i == at {
				b = snapshotThrough(t, a)
			}
			data := AppendEntry(nil, ptr(g.entry()))
			apa := a.Apply(&raft.Log{Index: uint64(i + 1), Data: data}).(*Applied)
			if apa.Err != nil {
				t.Fatalf("seed %d entry %d: %v", seed, i, apa.Err)
			}
			g.record(apa)
			if b == nil {
				continue
			}
			apb := b.Apply(&raft.Log{Index: uint64(i + 1), Data: data}).(*Applied)
			if !reflect.DeepEqual(apa, apb) {
				t.Fatalf("seed %d entry %d (restored at %d): results differ\n%+v\n%+v", seed, i, at, apa, apb)
			}
			if !bytes.Equal(a.State(), b.State()) {
				t.Fatalf("seed %d entry %d: states differ", seed, i)
			}
		}
		if len(g.grants) < 20 {
			t.Fatalf("seed %d: only %d grants: the generator does not reach the engine", seed, len(g.grants))
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestFSMRules(t *testing.T) {
	f, err := NewFSM(engine.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	apply := func(now int64, cmds ...Command) *Applied {
		t.Helper()
		ap := f.Apply(&raft.Log{Index: 1, Data: AppendEntry(nil, &Entry{Now: now, Commands: cmds})}).(*Applied)
		if ap.Err != nil {
			t.Fatal(ap.Err)
		}
		return ap
	}
	ap := apply(100, Command{Op: OpAcquire, Session: 1, Req: 1, Name: []byte("a"), Wait: -1})
	if ev := ap.Results[0].Events; len(ev) != 1 || !errors.Is(ev[0].Err, ErrNoSession) {
		t.Fatalf("acquire of a session never opened: %v, want ErrNoSession", ev)
	}
	ap = apply(200, Command{Op: OpOpenSession}, Command{Op: OpOpenSession})
	s1, s2 := ap.Results[0].Session, ap.Results[1].Session
	if s1 != 1 || s2 != 2 {
		t.Fatalf("sessions %d, %d; want 1, 2", s1, s2)
	}
	ap = apply(150, // a leader whose clock is behind: the FSM keeps time at 200
		Command{Op: OpAcquire, Session: s1, Req: 1, Name: []byte("a"), Wait: -1, TTL: 50},
		Command{Op: OpAcquire, Session: s2, Req: 1, Name: []byte("a"), Wait: -1})
	if ap.Now != 200 {
		t.Fatalf("entry applied at %d, want 200 (time never runs backwards)", ap.Now)
	}
	if d, ok, _ := f.NextDeadline(); !ok || d != 250 {
		t.Fatalf("next deadline %d,%v, want 250 (lease from the FSM's time)", d, ok)
	}
	ap = apply(300, Command{Op: OpTick})
	if ev := ap.Results[0].Events; len(ev) != 2 || ev[0].Kind != engine.Lost || ev[1].Kind != engine.Granted || ev[1].Session != s2 {
		t.Fatalf("tick after the lease: %v, want Lost(s1) Granted(s2)", ev)
	}
	ap = apply(400, Command{Op: OpCloseSession, Session: s2}, Command{Op: OpAcquire, Session: s2, Req: 2, Name: []byte("b")})
	if ev := ap.Results[1].Events; len(ev) != 1 || !errors.Is(ev[0].Err, ErrNoSession) {
		t.Fatalf("acquire after close: %v, want ErrNoSession", ev)
	}
	if _, ok := f.Status([]byte("a")); ok {
		t.Fatal("a still live after its holder's session closed")
	}
}

func TestFSMBadInput(t *testing.T) {
	f, _ := NewFSM(engine.DefaultConfig(), nil)
	if ap := f.Apply(&raft.Log{Data: []byte{9}}).(*Applied); !errors.Is(ap.Err, ErrEntry) {
		t.Fatalf("Apply of garbage: %v, want ErrEntry", ap.Err)
	}
	before := f.State()
	for _, data := range [][]byte{nil, []byte("wwlyrepl\x02"), append(bytes.Clone(before), 1), before[:len(before)-1]} {
		if err := f.Restore(io.NopCloser(bytes.NewReader(data))); !errors.Is(err, ErrSnapshot) {
			t.Errorf("Restore(%q): %v, want ErrSnapshot", data, err)
		}
	}
	if !bytes.Equal(before, f.State()) {
		t.Fatal("a failed Restore changed the state")
	}
}

func FuzzFSMRestore(f *testing.F) {
	fsm, _ := NewFSM(engine.DefaultConfig(), nil)
	g := &gen{r: rand.New(rand.NewPCG(1, 2))}
	for i := range 50 {
		g.record(fsm.Apply(&raft.Log{Index: uint64(i), Data: AppendEntry(nil, ptr(g.entry()))}).(*Applied))
	}
	f.Add(fsm.State())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		x, _ := NewFSM(engine.DefaultConfig(), nil)
		if err := x.restore(data); err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("%v does not wrap ErrSnapshot", err)
			}
			return
		}
		y, _ := NewFSM(engine.DefaultConfig(), nil)
		if err := y.restore(x.State()); err != nil || !bytes.Equal(x.State(), y.State()) {
			t.Fatalf("accepted state does not round-trip: %v", err)
		}
	})
}
