package engine

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// machine is the method set Engine and Model share; the differential test drives both through it.
type machine interface {
	Acquire(now int64, s SessionID, req uint64, name []byte, wait, ttl time.Duration)
	Release(now int64, s SessionID, req uint64, name []byte, token uint64)
	ReleaseAcquire(now int64, s SessionID, relReq uint64, name []byte, token uint64, acqReq uint64, wait, ttl time.Duration)
	Renew(now int64, s SessionID, req uint64, name []byte, token uint64, ttl time.Duration)
	Cancel(now int64, s SessionID, req uint64, target uint64)
	AcquireKind(now int64, s SessionID, req uint64, op Op)
	ReleaseKind(now int64, s SessionID, req uint64, op Op)
	Open(now int64, s SessionID, req uint64, op Op)
	CloseName(now int64, s SessionID, req uint64, op Op)
	Signal(now int64, s SessionID, req uint64, act Action, op Op)
	CloseSession(now int64, s SessionID)
	Tick(now int64)
	NextDeadline() (int64, bool)
	Events() []Event
	ClearEvents()
	Status(now int64, name []byte) (LockStatus, bool)
	Locks(now int64, fn func(LockStatus) bool)
	Stats() Stats
	Epoch() uint32
}

var (
	_ machine = (*Engine)(nil)
	_ machine = (*Model)(nil)
)

// chooser supplies the choices of a generated op sequence: from a seeded PRNG or from fuzz bytes.
type chooser interface {
	intn(n int) int
	done() bool
}

type randChooser struct {
	r    *rand.Rand
	left int
}

func (c *randChooser) intn(n int) int { return c.r.IntN(n) }
func (c *randChooser) done() bool     { c.left--; return c.left < 0 }

type byteChooser struct{ b []byte }

func (c *byteChooser) intn(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}
func (c *byteChooser) done() bool { return len(c.b) == 0 }

type grantRec struct {
	s     SessionID
	name  string
	token uint64
	req   uint64
}

// driver generates ops against a few names and sessions and keeps what it needs to aim
// releases and renewals at real (possibly stale) tokens.
type driver struct {
	c         chooser
	now       int64
	grants    []grantRec
	lastToken uint64
	trace     []string
	kinds     map[string]Prim // the kind last used on each name, to make ops on one name agree often
}

var diffNames = []string{"a", "b", "c", "", "toolong"} // MaxName is 4 in the differential config

func (d *driver) name() []byte {
	if d.c.intn(16) == 0 {
		return []byte(diffNames[3+d.c.intn(2)])
	}
	return []byte(diffNames[d.c.intn(3)])
}

func (d *driver) dur(limit int) time.Duration {
	switch d.c.intn(4) {
	case 0:
		return 0
	case 1:
		return -1
	}
	return time.Duration(1 + d.c.intn(limit))
}

// step applies one generated op to every machine.
func (d *driver) step(ms ...machine) {
	d.now += int64(d.c.intn(4))
	now := d.now
	s := SessionID(1 + d.c.intn(4))
	req := uint64(1 + d.c.intn(12))
	var desc string
	var apply func(m machine)
	switch k := d.c.intn(16); {
	case k < 4:
		name, wait, ttl := d.name(), d.dur(20), d.dur(30)
		desc = fmt.Sprintf("Acquire(s=%d req=%d %q wait=%d ttl=%d)", s, req, name, wait, ttl)
		apply = func(m machine) { m.Acquire(now, s, req, name, wait, ttl) }
	case k < 7:
		name, tok := d.name(), uint64(d.c.intn(3))
		if len(d.grants) > 0 && d.c.intn(5) > 0 {
			g := d.grants[len(d.grants)-1-d.c.intn(min(len(d.grants), 6))]
			name, tok = []byte(g.name), g.token
			if d.c.intn(6) > 0 {
				s = g.s
			}
		}
		switch {
		case k < 6 && d.c.intn(2) == 0: // the pipelined release+acquire of a worker's next cycle
			acq, wait, ttl := uint64(1+d.c.intn(12)), d.dur(20), d.dur(30)
			desc = fmt.Sprintf("ReleaseAcquire(s=%d req=%d %q tok=%#x acq=%d wait=%d ttl=%d)", s, req, name, tok, acq, wait, ttl)
			apply = func(m machine) { m.ReleaseAcquire(now, s, req, name, tok, acq, wait, ttl) }
		case k < 6:
			desc = fmt.Sprintf("Release(s=%d req=%d %q tok=%#x)", s, req, name, tok)
			apply = func(m machine) { m.Release(now, s, req, name, tok) }
		default:
			ttl := d.dur(30)
			desc = fmt.Sprintf("Renew(s=%d req=%d %q tok=%#x ttl=%d)", s, req, name, tok, ttl)
			apply = func(m machine) { m.Renew(now, s, req, name, tok, ttl) }
		}
	case k == 7:
		target := uint64(1 + d.c.intn(12))
		desc = fmt.Sprintf("Cancel(s=%d req=%d target=%d)", s, req, target)
		apply = func(m machine) { m.Cancel(now, s, req, target) }
	case k == 8:
		desc = fmt.Sprintf("CloseSession(s=%d)", s)
		apply = func(m machine) { m.CloseSession(now, s) }
	case k < 12:
		desc, apply = d.kindOp(now, s, req)
	default:
		d.now += int64(d.c.intn(16))
		now = d.now
		desc = "Tick"
		apply = func(m machine) { m.Tick(now) }
	}
	d.trace = append(d.trace, fmt.Sprintf("t=%d %s", now, desc))
	for _, m := range ms {
		apply(m)
	}
}

// kindOp generates an AcquireKind or ReleaseKind of any kind, with parameters that often
// conflict with the name's live kind, so ErrWrongKind is covered as well as the grants.
func (d *driver) kindOp(now int64, s SessionID, req uint64) (string, func(m machine)) {
	op := Op{
		Prim:   Prim(d.c.intn(int(numPrims) + 2)), // numPrims and above: an unknown kind
		Name:   d.name(),
		Owner:  uint64(d.c.intn(2)),
		N:      uint32(d.c.intn(4)),
		Value:  uint32(1 + d.c.intn(3)),
		Shared: d.c.intn(3) > 0,
		Token:  uint64(d.c.intn(3)),
		Wait:   d.dur(20),
		Detect: d.c.intn(2) == 0,
	}
	if d.c.intn(4) > 0 { // a semaphore's value is mostly the same, so that its name lives on
		op.Value = 2
	}
	if k, ok := d.kinds[string(op.Name)]; ok && d.c.intn(2) == 0 {
		op.Prim = k
	}
	if d.kinds == nil {
		d.kinds = map[string]Prim{}
	}
	d.kinds[string(op.Name)] = op.Prim
	if len(d.grants) > 0 && d.c.intn(3) > 0 {
		g := d.grants[len(d.grants)-1-d.c.intn(min(len(d.grants), 6))]
		op.Name, op.Token = []byte(g.name), g.token
		if d.c.intn(6) > 0 {
			s = g.s
		}
	}
	if d.c.intn(5) == 0 { // a condition, bound to a lock that is often held by the caller
		op.Prim, op.Lock = PrimCondition, d.name()
		if len(d.grants) > 0 && d.c.intn(4) > 0 {
			g := d.grants[len(d.grants)-1-d.c.intn(min(len(d.grants), 4))]
			op.Lock, op.Token, s = []byte(g.name), g.token, g.s
		}
		if d.c.intn(3) == 0 {
			act := ActNotify + Action(d.c.intn(2))
			op.N = uint32(d.c.intn(3))
			return fmt.Sprintf("Signal(s=%d req=%d act=%d %v)", s, req, act, op), func(m machine) { m.Signal(now, s, req, act, op) }
		}
	}
	if op.Prim == PrimBarrier && d.c.intn(4) == 0 {
		op.Value = 0 // an invalid barrier
	}
	switch d.c.intn(9) {
	case 0, 8: // opens are common, so that state without holders (a set Event) lives on
		return fmt.Sprintf("Open(s=%d req=%d %v)", s, req, op), func(m machine) { m.Open(now, s, req, op) }
	case 1:
		return fmt.Sprintf("CloseName(s=%d req=%d %v)", s, req, op), func(m machine) { m.CloseName(now, s, req, op) }
	case 2:
		act := Action(d.c.intn(5)) // 0: no action
		if k, ok := act.kind(); ok && d.c.intn(4) > 0 && op.Prim != PrimCondition {
			op.Prim = k
		}
		if op.Prim == PrimCondition && d.c.intn(3) > 0 {
			act = ActNotify + Action(d.c.intn(2))
		}
		return fmt.Sprintf("Signal(s=%d req=%d act=%d %v)", s, req, act, op), func(m machine) { m.Signal(now, s, req, act, op) }
	case 3, 4, 5:
		return fmt.Sprintf("AcquireKind(s=%d req=%d %v)", s, req, op), func(m machine) { m.AcquireKind(now, s, req, op) }
	}
	return fmt.Sprintf("ReleaseKind(s=%d req=%d %v)", s, req, op), func(m machine) { m.ReleaseKind(now, s, req, op) }
}

// compare checks that e and m emitted the same events and show the same state.
func (d *driver) compare(e *Engine, m *Model) error {
	ee, me := e.Events(), m.Events()
	for i := range max(len(ee), len(me)) {
		if i >= len(ee) || i >= len(me) || !sameEvent(ee[i], me[i]) {
			return fmt.Errorf("events differ at %d:\nengine %v\nmodel  %v", i, ee, me)
		}
		if ee[i].Kind == Granted {
			g := grantRec{ee[i].Session, string(ee[i].Name), ee[i].Token, 0}
			if ee[i].Token <= d.lastToken && !d.reentry(g) && ee[i].Token != 0 { // 0: Event, Barrier
				return fmt.Errorf("token %#x granted after %#x", ee[i].Token, d.lastToken)
			}
			d.lastToken = max(d.lastToken, ee[i].Token)
			d.grants = append(d.grants, g)
		}
	}
	e.ClearEvents()
	m.ClearEvents()
	if err := e.check(); err != nil {
		return fmt.Errorf("engine invariant: %w", err)
	}
	if es, ms := e.Stats(), m.Stats(); es != ms {
		return fmt.Errorf("stats differ: engine %+v model %+v", es, ms)
	}
	ew, eok := e.NextDeadline()
	mw, mok := m.NextDeadline()
	if ew != mw || eok != mok {
		return fmt.Errorf("NextDeadline differs: engine %d,%v model %d,%v", ew, eok, mw, mok)
	}
	if el, ml := collect(e, d.now), collect(m, d.now); !slices.Equal(el, ml) {
		return fmt.Errorf("Locks differ:\nengine %+v\nmodel  %+v", el, ml)
	}
	for _, n := range diffNames {
		es, eok := e.Status(d.now, []byte(n))
		ms, mok := m.Status(d.now, []byte(n))
		if es != ms || eok != mok {
			return fmt.Errorf("Status(%q) differs: engine %+v model %+v", n, es, ms)
		}
	}
	if e.Epoch() != m.Epoch() {
		return fmt.Errorf("epoch differs: engine %d model %d", e.Epoch(), m.Epoch())
	}
	return nil
}

// reentry reports whether g repeats the token of an earlier grant of the same name to the same
// session: an RLock re-entry, the only grant whose token does not rise.
func (d *driver) reentry(g grantRec) bool {
	return slices.ContainsFunc(d.grants, func(o grantRec) bool { return o.s == g.s && o.name == g.name && o.token == g.token })
}

func sameEvent(a, b Event) bool {
	return a.Kind == b.Kind && a.Session == b.Session && a.Req == b.Req && a.Token == b.Token &&
		bytes.Equal(a.Name, b.Name) && (a.Name == nil) == (b.Name == nil) && a.Err == b.Err && a.Value == b.Value &&
		slices.EqualFunc(a.Cycle, b.Cycle, func(x, y Hop) bool {
			return x.Session == y.Session && x.Owner == y.Owner && bytes.Equal(x.Name, y.Name)
		})
}

func collect(m machine, now int64) []LockStatus {
	var out []LockStatus
	m.Locks(now, func(st LockStatus) bool { out = append(out, st); return true })
	return out
}

// runDiff drives a fresh Engine and Model with the choices of c and returns the first divergence.
func runDiff(c chooser) error {
	cfg := Config{QueueCap: 1 + c.intn(2), MaxWaiters: 3 + c.intn(3), MaxName: 4, Epoch: uint32(c.intn(3)),
		MaxHolds: c.intn(5),                 // 0 (the default) or a cap of 1..4 that the generated ops reach
		Handoff:  Handoff{Barge: c.intn(4)}} // strict FIFO or a streak of 1..3 that the ops use up
	e, err := New(cfg)
	if err != nil {
		return err
	}
	m, err := NewModel(cfg)
	if err != nil {
		return err
	}
	if c.intn(4) == 0 { // start close to the end of the epoch to cover EpochBumped
		e.counter = counterMask - uint64(c.intn(8))
		m.counter = e.counter
	}
	if c.intn(3) == 0 { // every name in one or two hash chains
		e.hashMask = 1
	}
	d := &driver{c: c}
	fail := func(err error) error {
		tail := d.trace[max(0, len(d.trace)-40):]
		return fmt.Errorf("%w\nafter %d ops (config %+v), last ops:\n  %s", err, len(d.trace), cfg, strings.Join(tail, "\n  "))
	}
	for !c.done() {
		d.step(e, m)
		if err := d.compare(e, m); err != nil {
			return fail(err)
		}
	}
	// Lifetimes: once every session is gone, no state of any kind is left.
	for s := range SessionID(5) {
		e.CloseSession(d.now, s)
		m.CloseSession(d.now, s)
		d.trace = append(d.trace, fmt.Sprintf("t=%d CloseSession(s=%d) (end)", d.now, s))
		if err := d.compare(e, m); err != nil {
			return fail(err)
		}
	}
	if st := e.Stats(); st != (Stats{}) {
		return fail(fmt.Errorf("state left after every session closed: %+v", st))
	}
	return nil
}

var diffSeeds = flag.Int("engine.seeds", 0, "seeds for TestEngineVsModel (0: 200, 40 under -race or -short); for soaks")

func TestEngineVsModel(t *testing.T) {
	seeds, steps := 200, 300
	if raceEnabled || testing.Short() {
		seeds = 40
	}
	if *diffSeeds > 0 {
		seeds = *diffSeeds
	}
	for seed := range uint64(seeds) {
		c := &randChooser{r: rand.New(rand.NewPCG(seed, 0x77_6c_79)), left: steps}
		if err := runDiff(c); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

func FuzzEngineVsModel(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"))
	f.Add(bytes.Repeat([]byte{0, 0, 0, 0, 1, 2, 3}, 40))
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 1))
		b := make([]byte, 600)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := runDiff(&byteChooser{b: data}); err != nil {
			t.Fatal(err)
		}
	})
}
