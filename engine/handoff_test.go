package engine

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func relAcq(now int64, s SessionID, relReq uint64, name string, tok, acqReq uint64, want ...Event) step {
	return step{func(m machine) { m.ReleaseAcquire(now, s, relReq, []byte(name), tok, acqReq, -1, 0) }, want}
}

func TestReleaseAcquire(t *testing.T) {
	fifo, barge2 := DefaultConfig(), DefaultConfig()
	barge2.Handoff = Handoff{Barge: 2}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{"fifo hands over and queues the releaser", fifo, []step{
			acq(0, 1, 1, "x", -1, 0, granted(1, 1, tk(1), "x")),
			acq(0, 2, 1, "x", -1, 0),
			relAcq(1, 1, 2, "x", tk(1), 3, done(1, 2, tk(1), "x"), granted(2, 1, tk(2), "x")),
			holder("x", 2, tk(2), 1),
		}},
		{"barge:2 keeps the lock twice, then hands over in FIFO order", barge2, []step{
			acq(0, 1, 1, "x", -1, 0, granted(1, 1, tk(1), "x")),
			acq(0, 2, 1, "x", -1, 0),
			acq(0, 3, 1, "x", -1, 0),
			relAcq(1, 1, 2, "x", tk(1), 3, done(1, 2, tk(1), "x"), granted(1, 3, tk(2), "x")),
			relAcq(2, 1, 4, "x", tk(2), 5, done(1, 4, tk(2), "x"), granted(1, 5, tk(3), "x")),
			holder("x", 1, tk(3), 2),
			relAcq(3, 1, 6, "x", tk(3), 7, done(1, 6, tk(3), "x"), granted(2, 1, tk(4), "x")),
			holder("x", 2, tk(4), 2), // 3, then 1 at the tail
			rel(4, 2, 2, "x", tk(4), done(2, 2, tk(4), "x"), granted(3, 1, tk(5), "x")),
			rel(5, 3, 2, "x", tk(5), done(3, 2, tk(5), "x"), granted(1, 7, tk(6), "x")),
		}},
		{"barge:2 streak starts again after a handoff", barge2, []step{
			acq(0, 1, 1, "x", -1, 0, granted(1, 1, tk(1), "x")),
			acq(0, 2, 1, "x", -1, 0),
			relAcq(1, 1, 2, "x", tk(1), 3, done(1, 2, tk(1), "x"), granted(1, 3, tk(2), "x")),
			relAcq(1, 1, 4, "x", tk(2), 5, done(1, 4, tk(2), "x"), granted(1, 5, tk(3), "x")),
			relAcq(1, 1, 6, "x", tk(3), 7, done(1, 6, tk(3), "x"), granted(2, 1, tk(4), "x")),
			relAcq(2, 2, 2, "x", tk(4), 3, done(2, 2, tk(4), "x"), granted(2, 3, tk(5), "x")),
		}},
		{"no waiters: no barge counted, a plain release and acquire", barge2, []step{
			acq(0, 1, 1, "x", -1, 0, granted(1, 1, tk(1), "x")),
			relAcq(1, 1, 2, "x", tk(1), 3, done(1, 2, tk(1), "x"), granted(1, 3, tk(2), "x")),
			relAcq(1, 1, 4, "x", tk(2), 5, done(1, 4, tk(2), "x"), granted(1, 5, tk(3), "x")),
			relAcq(1, 1, 6, "x", tk(3), 7, done(1, 6, tk(3), "x"), granted(1, 7, tk(4), "x")),
		}},
		{"stale token: not held, then the acquire queues", barge2, []step{
			acq(0, 1, 1, "x", -1, 0, granted(1, 1, tk(1), "x")),
			acq(0, 2, 1, "x", -1, 0),
			relAcq(1, 1, 2, "x", tk(9), 3, failed(1, 2, "x", ErrNotHeld)),
			holder("x", 1, tk(1), 2),
		}},
		{"a lease expiry ends the streak", barge2, []step{
			step{func(m machine) { m.Acquire(0, 1, 1, []byte("x"), -1, 10*time.Nanosecond) }, []Event{granted(1, 1, tk(1), "x")}},
			acq(0, 2, 1, "x", -1, 0),
			relAcq(1, 1, 2, "x", tk(1), 3, done(1, 2, tk(1), "x"), granted(1, 3, tk(2), "x")),
			step{func(m machine) { m.ReleaseAcquire(2, 1, 4, []byte("x"), tk(2), 5, -1, 10*time.Nanosecond) },
				[]Event{done(1, 4, tk(2), "x"), granted(1, 5, tk(3), "x")}},
			tick(12, lost(1, 5, tk(3), "x"), granted(2, 1, tk(4), "x")),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { run(t, tt.cfg, nil, tt.steps) })
	}
}

func TestParseHandoff(t *testing.T) {
	tests := []struct {
		in   string
		want Handoff
		err  bool
	}{
		{"fifo", Handoff{}, false},
		{"barge:1", Handoff{Barge: 1}, false},
		{"barge:64", Handoff{Barge: 64}, false},
		{fmt.Sprintf("barge:%d", MaxBarge), Handoff{Barge: MaxBarge}, false},
		{fmt.Sprintf("barge:%d", MaxBarge+1), Handoff{}, true},
		{"barge:0", Handoff{}, true},
		{"barge:-1", Handoff{}, true},
		{"barge:", Handoff{}, true},
		{"barge", Handoff{}, true},
		{"FIFO", Handoff{}, true},
		{"", Handoff{}, true},
	}
	for _, tt := range tests {
		got, err := ParseHandoff(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseHandoff(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err != nil && !errors.Is(err, ErrHandoff) {
			t.Errorf("ParseHandoff(%q): %v does not wrap ErrHandoff", tt.in, err)
		}
		if err == nil {
			if back, _ := ParseHandoff(got.String()); back != got {
				t.Errorf("ParseHandoff(%q).String() = %q does not read back", tt.in, got.String())
			}
		}
	}
}

func TestHandoffConfig(t *testing.T) {
	for _, b := range []int{-1, MaxBarge + 1} {
		cfg := DefaultConfig()
		cfg.Handoff.Barge = b
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("Barge %d: New error %v, want ErrConfig", b, err)
		}
	}
}

func FuzzParseHandoff(f *testing.F) {
	for _, s := range []string{"fifo", "barge:4", "barge:x", "barge:99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHandoff(s)
		if err != nil {
			return
		}
		if h.Barge < 0 || h.Barge > MaxBarge {
			t.Fatalf("ParseHandoff(%q) = %v out of range", s, h)
		}
		if back, err := ParseHandoff(h.String()); err != nil || back != h {
			t.Fatalf("%q: String %q reads back as %v, %v", s, h.String(), back, err)
		}
	})
}

// ExampleHandoff shows a releaser that re-takes a contended lock under barge:1: once, then the
// waiter gets it.
func ExampleHandoff() {
	cfg := DefaultConfig()
	cfg.Handoff, _ = ParseHandoff("barge:1")
	e, _ := New(cfg)
	e.Acquire(0, 1, 1, []byte("hot"), -1, 0)
	e.Acquire(0, 2, 1, []byte("hot"), -1, 0)
	tok := e.Events()[0].Token
	e.ClearEvents()
	for i := range uint64(2) {
		e.ReleaseAcquire(1, 1, 10+i, []byte("hot"), tok, 20+i, -1, 0)
		for _, ev := range e.Events() {
			fmt.Println(ev.Kind, "session", ev.Session, "req", ev.Req)
			if ev.Kind == Granted {
				tok = ev.Token
			}
		}
		e.ClearEvents()
	}
	// Output:
	// Done session 1 req 10
	// Granted session 1 req 20
	// Done session 1 req 11
	// Granted session 2 req 1
}
