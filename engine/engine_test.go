package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// tk is the n-th token of epoch 1, the epoch of DefaultConfig.
func tk(n uint64) uint64 { return 1<<CounterBits | n }

func granted(s SessionID, req, tok uint64, name string) Event {
	return Event{Kind: Granted, Session: s, Req: req, Token: tok, Name: []byte(name)}
}
func failed(s SessionID, req uint64, name string, err error) Event {
	return Event{Kind: Failed, Session: s, Req: req, Name: nameOrNil(name), Err: err}
}
func done(s SessionID, req, tok uint64, name string) Event {
	return Event{Kind: Done, Session: s, Req: req, Token: tok, Name: nameOrNil(name)}
}
func lost(s SessionID, req, tok uint64, name string) Event {
	return Event{Kind: Lost, Session: s, Req: req, Token: tok, Name: []byte(name)}
}
func nameOrNil(n string) []byte {
	if n == "" {
		return nil
	}
	return []byte(n)
}

// step is one call and the exact events it must emit.
type step struct {
	do   func(m machine)
	want []Event
}

func acq(now int64, s SessionID, req uint64, name string, wait, ttl time.Duration, want ...Event) step {
	return step{func(m machine) { m.Acquire(now, s, req, []byte(name), wait, ttl) }, want}
}
func rel(now int64, s SessionID, req uint64, name string, tok uint64, want ...Event) step {
	return step{func(m machine) { m.Release(now, s, req, []byte(name), tok) }, want}
}
func renew(now int64, s SessionID, req uint64, name string, tok uint64, ttl time.Duration, want ...Event) step {
	return step{func(m machine) { m.Renew(now, s, req, []byte(name), tok, ttl) }, want}
}
func cancel(now int64, s SessionID, req, target uint64, want ...Event) step {
	return step{func(m machine) { m.Cancel(now, s, req, target) }, want}
}
func closeS(now int64, s SessionID, want ...Event) step {
	return step{func(m machine) { m.CloseSession(now, s) }, want}
}
func tick(now int64, want ...Event) step {
	return step{func(m machine) { m.Tick(now) }, want}
}

// expect checks state without emitting anything.
func expect(f func(m machine) error) step {
	return step{do: func(m machine) {
		if err := f(m); err != nil {
			panic(err) // turned into a test failure by run
		}
	}}
}

func stats(want Stats) step {
	return expect(func(m machine) error {
		if got := m.Stats(); got != want {
			return fmt.Errorf("Stats = %+v, want %+v", got, want)
		}
		return nil
	})
}

func holder(name string, s SessionID, tok uint64, waiters int) step {
	return expect(func(m machine) error {
		st, ok := m.Status(0, []byte(name))
		if !ok || st.Holder != s || st.Token != tok || st.Waiters != waiters {
			return fmt.Errorf("Status(%q) = %+v,%v; want holder %d token %#x waiters %d", name, st, ok, s, tok, waiters)
		}
		return nil
	})
}

func deadline(want int64, wantOK bool) step {
	return expect(func(m machine) error {
		if got, ok := m.NextDeadline(); got != want || ok != wantOK {
			return fmt.Errorf("NextDeadline = %d,%v; want %d,%v", got, ok, want, wantOK)
		}
		return nil
	})
}

// run plays steps on a fresh Engine and a fresh Model; both must match the table exactly.
func run(t *testing.T, cfg Config, setup func(e *Engine, m *Model), steps []step) {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(e, m)
	}
	for _, impl := range []machine{e, m} {
		for i, st := range steps {
			if err := func() (err error) {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("%v", r)
					}
				}()
				st.do(impl)
				return nil
			}(); err != nil {
				t.Fatalf("%T step %d: %v", impl, i, err)
			}
			got := impl.Events()
			if !sameEvents(got, st.want) {
				t.Fatalf("%T step %d:\n got  %v\n want %v", impl, i, got, st.want)
			}
			impl.ClearEvents()
		}
		if e, ok := impl.(*Engine); ok {
			if err := e.check(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func sameEvents(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameEvent(a[i], b[i]) {
			return false
		}
	}
	return true
}

const forever = -1

// capped is DefaultConfig with a per-session hold cap of n.
func capped(n int) Config {
	c := DefaultConfig()
	c.MaxHolds = n
	return c
}

func TestRules(t *testing.T) {
	small := DefaultConfig()
	small.MaxWaiters, small.QueueCap, small.MaxName = 2, 1, 4
	cases := []struct {
		name  string
		cfg   Config
		setup func(e *Engine, m *Model)
		steps []step
	}{
		{name: "grant when free, try-lock when busy fails now, tokens rise across names", steps: []step{
			acq(0, 1, 1, "a", 0, 0, granted(1, 1, tk(1), "a")),
			acq(0, 2, 1, "a", 0, 0, failed(2, 1, "a", ErrTimeout)),
			acq(0, 2, 2, "b", 0, 0, granted(2, 2, tk(2), "b")),
			holder("a", 1, tk(1), 0),
			stats(Stats{Locks: 2, Sessions: 2}),
		}},
		{name: "FIFO, exactly one waiter granted per release", steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acq(1, 2, 1, "a", forever, 0),
			acq(2, 3, 1, "a", forever, 0),
			acq(3, 4, 1, "a", forever, 0),
			holder("a", 1, tk(1), 3),
			rel(4, 1, 2, "a", tk(1), done(1, 2, tk(1), "a"), granted(2, 1, tk(2), "a")),
			rel(5, 2, 2, "a", tk(2), done(2, 2, tk(2), "a"), granted(3, 1, tk(3), "a")),
			rel(6, 3, 2, "a", tk(3), done(3, 2, tk(3), "a"), granted(4, 1, tk(4), "a")),
			rel(7, 4, 2, "a", tk(4), done(4, 2, tk(4), "a")),
			stats(Stats{}),
		}},
		{name: "release of a lock not held changes nothing", steps: []step{
			rel(0, 1, 1, "a", tk(1), failed(1, 1, "a", ErrNotHeld)), // free name
			acq(0, 1, 2, "a", 0, 0, granted(1, 2, tk(1), "a")),
			acq(0, 2, 1, "a", forever, 0),
			rel(1, 1, 3, "a", tk(2), failed(1, 3, "a", ErrNotHeld)), // wrong token
			rel(1, 2, 2, "a", tk(1), failed(2, 2, "a", ErrNotHeld)), // other session
			rel(1, 1, 3, "b", tk(1), failed(1, 3, "b", ErrNotHeld)), // other name
			holder("a", 1, tk(1), 1),
			rel(2, 1, 4, "a", tk(1), done(1, 4, tk(1), "a"), granted(2, 1, tk(2), "a")),
			rel(3, 1, 5, "a", tk(1), failed(1, 5, "a", ErrNotHeld)), // twice: idempotent
			holder("a", 2, tk(2), 0),
		}},
		{name: "not reentrant: a holder queues behind itself", steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acq(0, 1, 2, "a", 0, 0, failed(1, 2, "a", ErrTimeout)),
			acq(0, 1, 3, "a", forever, 0),
			holder("a", 1, tk(1), 1),
			rel(1, 1, 4, "a", tk(1), done(1, 4, tk(1), "a"), granted(1, 3, tk(2), "a")),
		}},
		{name: "duplicate waiting request id", steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acq(0, 2, 7, "a", forever, 0),
			acq(0, 2, 7, "b", forever, 0, failed(2, 7, "b", ErrDuplicate)),
			acq(0, 3, 7, "a", forever, 0),                            // other session, same id: fine
			acq(0, 1, 1, "b", forever, 0, granted(1, 1, tk(2), "b")), // granted ids are not waiting
		}},
		{name: "name length", cfg: small, steps: []step{
			acq(0, 1, 1, "", forever, 0, failed(1, 1, "", ErrNameLength)),
			acq(0, 1, 2, "abcde", forever, 0, failed(1, 2, "", ErrNameLength)),
			acq(0, 1, 3, "abcd", forever, 0, granted(1, 3, tk(1), "abcd")),
			rel(0, 1, 4, "abcde", tk(1), failed(1, 4, "abcde", ErrNotHeld)),
		}},
		{name: "hold cap counts holds and waits, and frees up as they end", cfg: capped(2), steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acq(0, 2, 1, "b", forever, 0, granted(2, 1, tk(2), "b")),
			acq(0, 1, 2, "b", forever, 0), // one hold + one wait: at the cap
			acq(0, 1, 3, "c", forever, 0, failed(1, 3, "c", ErrTooManyHolds)),
			acq(0, 1, 4, "a", 0, 0, failed(1, 4, "a", ErrTooManyHolds)), // the cap comes before busy
			acq(0, 1, 2, "c", 0, 0, failed(1, 2, "c", ErrDuplicate)),    // and after the duplicate check
			acq(0, 3, 1, "c", forever, 0, granted(3, 1, tk(3), "c")),    // other sessions are not limited
			cancel(0, 1, 5, 2, failed(1, 2, "b", ErrCancelled), done(1, 5, 0, "")),
			acq(0, 1, 6, "d", forever, 0, granted(1, 6, tk(4), "d")),
			rel(0, 1, 7, "a", tk(1), done(1, 7, tk(1), "a")),
			acq(0, 1, 8, "e", 0, 0, granted(1, 8, tk(5), "e")),
			closeS(0, 1),
			acq(0, 1, 9, "f", 0, 0, granted(1, 9, tk(6), "f")), // a closed session's count is gone
		}},
		{name: "queue full", cfg: small, steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acq(0, 2, 1, "a", forever, 0),
			acq(0, 3, 1, "a", forever, 0),
			acq(0, 4, 1, "a", forever, 0, failed(4, 1, "a", ErrQueueFull)),
			cancel(0, 2, 2, 1, failed(2, 1, "a", ErrCancelled), done(2, 2, 0, "")),
			acq(0, 4, 1, "a", forever, 0),
			holder("a", 1, tk(1), 2),
		}},
		{name: "wait timeout fires in Tick", steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			deadline(0, false),
			acq(10, 2, 1, "a", 5, 0),
			acq(11, 3, 1, "a", 9, 0),
			deadline(15, true),
			tick(14),
			tick(15, failed(2, 1, "a", ErrTimeout)),
			deadline(20, true),
			rel(16, 1, 2, "a", tk(1), done(1, 2, tk(1), "a"), granted(3, 1, tk(2), "a")),
			deadline(0, false),
			tick(100),
		}},
		{name: "lease loss grants the next waiter a higher token", steps: []step{
			acq(0, 1, 1, "a", forever, 10, granted(1, 1, tk(1), "a")),
			acq(1, 2, 1, "a", forever, 20),
			deadline(10, true),
			renew(5, 1, 2, "a", tk(1), 10, done(1, 2, tk(1), "a")),
			tick(10),
			tick(15, lost(1, 1, tk(1), "a"), granted(2, 1, tk(2), "a")),
			deadline(35, true), // the new holder's lease starts at grant time
			rel(16, 1, 3, "a", tk(1), failed(1, 3, "a", ErrNotHeld)),
			renew(16, 1, 4, "a", tk(1), 10, failed(1, 4, "a", ErrNotHeld)),
			renew(16, 2, 2, "a", tk(2), 0, done(2, 2, tk(2), "a")), // ttl 0: no lease any more
			deadline(0, false),
			tick(1000),
			holder("a", 2, tk(2), 0),
		}},
		{name: "cancel is atomic against grant", steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acq(0, 2, 1, "a", 50, 0),
			acq(0, 3, 1, "a", forever, 0),
			cancel(1, 2, 2, 1, failed(2, 1, "a", ErrCancelled), done(2, 2, 0, "")),
			cancel(1, 2, 3, 1, done(2, 3, 0, "")), // no longer waiting
			deadline(0, false),
			rel(2, 1, 2, "a", tk(1), done(1, 2, tk(1), "a"), granted(3, 1, tk(2), "a")),
			cancel(3, 3, 2, 1, done(3, 2, 0, "")), // already granted: untouched
			holder("a", 3, tk(2), 0),
		}},
		{name: "CloseSession releases in grant order and drops waits, silently", steps: []step{
			acq(0, 1, 1, "b", forever, 0, granted(1, 1, tk(1), "b")),
			acq(0, 1, 2, "a", forever, 10, granted(1, 2, tk(2), "a")),
			acq(0, 2, 1, "c", forever, 0, granted(2, 1, tk(3), "c")),
			acq(0, 1, 3, "c", 5, 0),
			acq(0, 1, 4, "a", forever, 0), // waits behind itself
			acq(0, 3, 1, "a", forever, 0),
			acq(0, 2, 2, "b", forever, 0),
			stats(Stats{Locks: 3, Waiters: 4, Sessions: 3}),
			closeS(1, 1, granted(2, 2, tk(4), "b"), granted(3, 1, tk(5), "a")),
			stats(Stats{Locks: 3, Sessions: 2}),
			deadline(0, false),
			closeS(1, 1),
			closeS(2, 2), // c and b had no other waiters: both freed
			stats(Stats{Locks: 1, Sessions: 1}),
			closeS(3, 3),
			stats(Stats{}),
		}},
		{name: "Tick order: deadline, then arming sequence", steps: []step{
			acq(0, 1, 1, "a", forever, 30, granted(1, 1, tk(1), "a")),
			acq(0, 1, 2, "b", forever, 0, granted(1, 2, tk(2), "b")),
			acq(10, 2, 1, "b", 20, 0), // deadline 30, armed after a's lease
			acq(5, 3, 1, "a", 25, 0),  // deadline 30, armed last
			acq(5, 4, 1, "b", 20, 0),  // deadline 25
			tick(40, failed(4, 1, "b", ErrTimeout), lost(1, 1, tk(1), "a"), granted(3, 1, tk(3), "a"),
				failed(2, 1, "b", ErrTimeout)),
		}},
		{name: "epoch bump comes before the grant that needs it", setup: func(e *Engine, m *Model) {
			e.counter, m.counter = counterMask-1, counterMask-1
		}, steps: []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(counterMask), "a")),
			acq(0, 1, 2, "b", forever, 0, Event{Kind: EpochBumped, Token: 2}, granted(1, 2, 2<<CounterBits|1, "b")),
			expect(func(m machine) error {
				if m.Epoch() != 2 {
					return fmt.Errorf("epoch %d, want 2", m.Epoch())
				}
				return nil
			}),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			if cfg == (Config{}) {
				cfg = DefaultConfig()
			}
			run(t, cfg, c.setup, c.steps)
		})
	}
}

// TestTokensAcrossRestarts: an engine started with the next epoch issues tokens above every
// token of the previous one, even one that had used its whole counter.
func TestTokensAcrossRestarts(t *testing.T) {
	cfg := DefaultConfig()
	old, _ := New(cfg)
	old.counter = counterMask - 1
	old.Acquire(0, 1, 1, []byte("a"), 0, 0)
	last := old.Events()[0].Token
	cfg.Epoch++
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Acquire(0, 1, 1, []byte("a"), 0, 0)
	if first := e.Events()[0].Token; first <= last {
		t.Fatalf("token after restart %#x not above %#x", first, last)
	}
}

// TestMemoryFreed: state is bounded by live locks and waiters, whatever the number of names used.
func TestMemoryFreed(t *testing.T) {
	e, _ := New(DefaultConfig())
	var prev uint64
	for i := range 10000 {
		name := []byte(fmt.Sprintf("name-%d", i))
		e.Acquire(int64(i), SessionID(i%7), uint64(i), name, -1, time.Second)
		e.Acquire(int64(i), SessionID(i%7+1), uint64(i), name, time.Second, 0)
		ev := e.Events()
		if ev[0].Token <= prev {
			t.Fatalf("token %#x not above %#x", ev[0].Token, prev)
		}
		e.Release(int64(i), ev[0].Session, 0, name, ev[0].Token)
		g := e.Events()[2]
		prev = g.Token
		e.Release(int64(i), g.Session, 0, name, g.Token)
		e.ClearEvents()
		if st := e.Stats(); st != (Stats{}) {
			t.Fatalf("after name %d: %+v", i, st)
		}
	}
	// At most the one idle lock and session are kept for reuse.
	if len(e.locks) > 1 || len(e.sessions) > 1 || len(e.timers) != 0 || e.liveHead != nil {
		t.Fatalf("tables not empty: %d locks, %d sessions, %d timers", len(e.locks), len(e.sessions), len(e.timers))
	}
	if len(e.freeLocks) > 1 || len(e.freeWaiters) > 1 {
		t.Fatalf("free lists grew: %d locks, %d waiters", len(e.freeLocks), len(e.freeWaiters))
	}
}

// TestEventNamesStable: event names survive later calls and recycling until ClearEvents.
func TestEventNamesStable(t *testing.T) {
	e, _ := New(DefaultConfig())
	for i := range 100 {
		name := []byte(fmt.Sprintf("n%03d", i))
		e.Acquire(0, 1, uint64(i), name, 0, 0)
		e.Release(0, 1, uint64(i), name, e.Events()[2*i].Token)
		name[0] = 'X' // the caller's buffer is not aliased
	}
	for i, ev := range e.Events() {
		if want := fmt.Sprintf("n%03d", i/2); string(ev.Name) != want {
			t.Fatalf("event %d name %q, want %q", i, ev.Name, want)
		}
	}
}

func TestQueueRingGrowsAndCompacts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueCap, cfg.MaxWaiters = 2, 64
	e, _ := New(cfg)
	e.Acquire(0, 1, 1, []byte("a"), -1, 0)
	for s := SessionID(2); s < 66; s++ {
		e.Acquire(0, s, 1, []byte("a"), -1, 0)
		if s%3 == 0 {
			e.Cancel(0, s, 2, 1)
		}
		if err := e.check(); err != nil {
			t.Fatal(err)
		}
	}
	e.ClearEvents()
	e.Acquire(0, 99, 1, []byte("a"), -1, 0)
	if ev := e.Events(); len(ev) != 0 {
		t.Fatalf("unexpected %v", ev)
	}
	tok, holderS := tk(1), SessionID(1)
	var order []SessionID
	for range 100 {
		e.ClearEvents()
		e.Release(0, holderS, 9, []byte("a"), tok)
		ev := e.Events()
		if len(ev) < 2 {
			break
		}
		holderS, tok = ev[1].Session, ev[1].Token
		order = append(order, holderS)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Fatalf("grants out of FIFO order: %v", order)
		}
	}
	if want := 64 - 21 + 1; len(order) != want {
		t.Fatalf("%d grants, want %d", len(order), want)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		mod  func(c *Config)
		want string // "" = valid
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { c.QueueCap = 0 }, "QueueCap"},
		{func(c *Config) { c.MaxWaiters = 0 }, "MaxWaiters"},
		{func(c *Config) { c.QueueCap = c.MaxWaiters + 1 }, "exceeds MaxWaiters"},
		{func(c *Config) { c.MaxName = 0 }, "MaxName"},
		{func(c *Config) { c.MaxHolds = 0 }, ""},
		{func(c *Config) { c.MaxHolds = -1 }, "MaxHolds"},
		{func(c *Config) { c.Epoch = MaxEpoch }, ""},
		{func(c *Config) { c.Epoch = MaxEpoch + 1 }, "Epoch"},
	}
	for i, c := range cases {
		cfg := DefaultConfig()
		c.mod(&cfg)
		_, err := New(cfg)
		if c.want == "" && err != nil || c.want != "" && (!errors.Is(err, ErrConfig) || !strings.Contains(fmt.Sprint(err), c.want)) {
			t.Errorf("case %d: %v, want %q", i, err, c.want)
		}
	}
}

func TestLocksAndStatus(t *testing.T) {
	e, _ := New(DefaultConfig())
	e.Acquire(100, 1, 1, []byte("b"), -1, 50)
	e.Acquire(100, 2, 1, []byte("a"), -1, 0)
	e.Acquire(110, 3, 1, []byte("b"), -1, 0)
	var got []LockStatus
	e.Locks(130, func(st LockStatus) bool { got = append(got, st); return true })
	want := []LockStatus{
		{Name: "b", Holder: 1, HolderReq: 1, Token: tk(1), Holders: 1, Waiters: 1, OldestWait: 20, LeaseLeft: 20},
		{Name: "a", Holder: 2, HolderReq: 1, Token: tk(2), Holders: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Locks = %+v\nwant %+v", got, want)
	}
	n := 0
	e.Locks(0, func(LockStatus) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Locks did not stop: %d calls", n)
	}
	if _, ok := e.Status(0, []byte("zzz")); ok {
		t.Fatal("Status of a free name reported live")
	}
}

// TestBigRingReturned: a drained burst of waiters does not pin its ring while the lock stays held.
func TestBigRingReturned(t *testing.T) {
	e, _ := New(DefaultConfig())
	e.Acquire(0, 1, 1, []byte("a"), -1, 0)
	for s := SessionID(2); s < 500; s++ {
		e.Acquire(0, s, 1, []byte("a"), time.Second, 0)
	}
	l := e.lookup([]byte("a"))
	if len(l.ring) < 498 {
		t.Fatalf("ring of %d for 498 waiters", len(l.ring))
	}
	e.Tick(int64(time.Second))
	if st := e.Stats(); st != (Stats{Locks: 1, Sessions: 1}) || l.ring != nil {
		t.Fatalf("after timeouts: %+v, ring %d", st, len(l.ring))
	}
	if err := e.check(); err != nil {
		t.Fatal(err)
	}
}

func TestEventString(t *testing.T) {
	ev := failed(3, 7, "jobs", ErrTimeout)
	if got, want := ev.String(), `Failed{s=3 req=7 tok=0x0 name="jobs" err=engine: wait timed out}`; got != want {
		t.Fatalf("String() = %s, want %s", got, want)
	}
	for k := Granted; k <= EpochBumped+1; k++ {
		if s := k.String(); s == "" || (k <= EpochBumped && strings.HasPrefix(s, "Kind(")) {
			t.Fatalf("Kind %d renders as %q", k, s)
		}
	}
}

// TestSessionLoad: holds plus queued waits per session, back to 0 when all is released.
func TestSessionLoad(t *testing.T) {
	e, _ := New(DefaultConfig())
	e.Acquire(0, 1, 1, []byte("a"), 0, 0)
	e.Acquire(0, 1, 2, []byte("b"), 0, 0)
	e.Acquire(0, 2, 1, []byte("a"), -1, 0)
	ev := e.Events()
	tests := []struct {
		s    SessionID
		want int
	}{{1, 2}, {2, 1}, {3, 0}}
	for _, tt := range tests {
		if got := e.SessionLoad(tt.s); got != tt.want {
			t.Errorf("SessionLoad(%d) = %d, want %d", tt.s, got, tt.want)
		}
	}
	tokA, tokB := ev[0].Token, ev[1].Token
	e.ClearEvents()
	e.Release(1, 1, 3, []byte("a"), tokA)
	e.Release(1, 1, 4, []byte("b"), tokB)
	if got := e.SessionLoad(1); got != 0 {
		t.Errorf("after release SessionLoad(1) = %d, want 0", got)
	}
	if got := e.SessionLoad(2); got != 1 {
		t.Errorf("after handoff SessionLoad(2) = %d, want 1 (now holding)", got)
	}
}
