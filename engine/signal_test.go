package engine

import "testing"

func ev(name string) Op { return Op{Prim: PrimEvent, Name: []byte(name), Wait: forever} }
func bar(name string, parties uint32) Op {
	return Op{Prim: PrimBarrier, Name: []byte(name), Value: parties, Wait: forever}
}

func open(now int64, s SessionID, req uint64, op Op, want ...Event) step {
	return step{func(m machine) { m.Open(now, s, req, op) }, want}
}
func closeN(now int64, s SessionID, req uint64, op Op, want ...Event) step {
	return step{func(m machine) { m.CloseName(now, s, req, op) }, want}
}
func signal(now int64, s SessionID, req uint64, act Action, op Op, want ...Event) step {
	return step{func(m machine) { m.Signal(now, s, req, act, op) }, want}
}

// arrived is the Granted of a Barrier wait with its arrival index.
func arrived(s SessionID, req uint64, name string, idx int64) Event {
	e := granted(s, req, 0, name)
	e.Value = idx
	return e
}

func TestEventsAndBarriers(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"event: set wakes every waiter in one step, in queue order; clear after does not undo it", []step{
			acqK(0, 1, 1, ev("e")),
			acqK(0, 2, 1, ev("e")),
			acqK(0, 1, 2, ev("e").w(5)),
			signal(1, 3, 1, ActSet, ev("e"), done(3, 1, 0, "e"), granted(1, 1, 0, "e"), granted(2, 1, 0, "e"), granted(1, 2, 0, "e")),
			signal(1, 3, 2, ActClear, ev("e"), done(3, 2, 0, "e")),
			tick(10),       // the timed waiter was woken: no timeout follows
			stats(Stats{}), // nobody has it open: the state is gone
		}},
		{"event: its flag lives while the name is open", []step{
			open(0, 1, 1, ev("e"), done(1, 1, 0, "e")),
			signal(0, 2, 1, ActSet, ev("e"), done(2, 1, 0, "e")),
			acqK(0, 3, 1, ev("e").w(0), granted(3, 1, 0, "e")), // is_set, as a try
			signal(0, 2, 2, ActClear, ev("e"), done(2, 2, 0, "e")),
			acqK(0, 3, 2, ev("e").w(0), failed(3, 2, "e", ErrTimeout)),
			acqK(0, 3, 3, ev("e").w(4)),
			tick(4, failed(3, 3, "e", ErrTimeout)),
			signal(5, 2, 3, ActSet, ev("e"), done(2, 3, 0, "e")),
			closeN(6, 1, 2, ev("e"), done(1, 2, 0, "e")),
			closeN(6, 1, 3, ev("e"), failed(1, 3, "e", ErrNotHeld)),
			gone("e"),
			signal(7, 2, 4, ActSet, ev("e"), done(2, 4, 0, "e")), // nobody has it open: not kept
			acqK(7, 3, 4, ev("e").w(0), failed(3, 4, "e", ErrTimeout)),
		}},
		{"open pins the kind and parameter; closing the session closes its names", []step{
			open(0, 1, 1, sem("s", 2, 1), done(1, 1, 0, "s")),
			acq(0, 2, 1, "s", 0, 0, failed(2, 1, "s", ErrWrongKind)),
			open(0, 2, 2, sem("s", 3, 1), failed(2, 2, "s", ErrWrongKind)),
			open(0, 2, 3, Op{Prim: PrimMutex, Name: []byte("m")}, failed(2, 3, "m", ErrInvalid)),
			relK(0, 2, 4, sem("s", 2, 1), done(2, 4, 0, "s")), // surplus, kept while open
			status("s", func(st LockStatus) bool { return st.Value == 3 && st.Holders == 0 }, "value 3"),
			closeS(1, 1),
			gone("s"),
		}},
		{"barrier: arrival indexes, the last arrival releases all, the barrier is reusable", []step{
			acqK(0, 1, 1, bar("b", 3)),
			acqK(0, 2, 1, bar("b", 3)),
			acqK(0, 3, 1, bar("b", 4), failed(3, 1, "b", ErrWrongKind)),
			acqK(0, 3, 2, bar("b", 3), arrived(1, 1, "b", 0), arrived(2, 1, "b", 1), arrived(3, 2, "b", 2)),
			gone("b"),
			acqK(1, 1, 2, bar("b", 1), arrived(1, 2, "b", 0)),
		}},
		{"barrier: a timeout breaks it for everyone until reset", []step{
			open(0, 9, 1, bar("b", 3), done(9, 1, 0, "b")),
			acqK(0, 1, 1, bar("b", 3)),
			acqK(0, 2, 1, bar("b", 3).w(5)),
			tick(5, failed(2, 1, "b", ErrTimeout), failed(1, 1, "b", ErrBroken)),
			acqK(6, 3, 1, bar("b", 3), failed(3, 1, "b", ErrBroken)),
			signal(7, 9, 2, ActReset, bar("b", 3), done(9, 2, 0, "b")),
			acqK(8, 3, 2, bar("b", 3).w(0), failed(3, 2, "b", ErrTimeout)), // a try breaks it too
			signal(9, 9, 3, ActReset, bar("b", 3), done(9, 3, 0, "b")),
			acqK(10, 1, 2, bar("b", 3)),
			signal(11, 9, 4, ActReset, bar("b", 3), done(9, 4, 0, "b"), failed(1, 2, "b", ErrBroken)),
			acqK(12, 1, 3, bar("b", 3)),
			signal(13, 9, 5, ActAbort, bar("b", 3), done(9, 5, 0, "b"), failed(1, 3, "b", ErrBroken)),
			acqK(14, 1, 4, bar("b", 3), failed(1, 4, "b", ErrBroken)),
			signal(15, 9, 6, ActSet, bar("b", 3), failed(9, 6, "b", ErrInvalid)),
		}},
		{"barrier: a party whose session closes breaks it; so does a cancel", []step{
			acqK(0, 1, 1, bar("b", 3)),
			acqK(0, 2, 1, bar("b", 3)),
			closeS(1, 2, failed(1, 1, "b", ErrBroken)),
			gone("b"), // nobody had it open: the broken state is not kept
			acqK(2, 1, 2, bar("b", 2)),
			cancel(3, 1, 3, 2, failed(1, 2, "b", ErrCancelled), done(1, 3, 0, "")),
			gone("b"),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, DefaultConfig(), nil, c.steps) })
	}
}
