package engine

import (
	"fmt"
	"testing"
	"time"
)

func acqK(now int64, s SessionID, req uint64, op Op, want ...Event) step {
	return step{func(m machine) { m.AcquireKind(now, s, req, op) }, want}
}
func relK(now int64, s SessionID, req uint64, op Op, want ...Event) step {
	return step{func(m machine) { m.ReleaseKind(now, s, req, op) }, want}
}

// Op builders for the table below; wait is forever unless set with .w.
func rlock(name string, owner uint64) Op {
	return Op{Prim: PrimRLock, Name: []byte(name), Owner: owner, Wait: forever}
}
func sem(name string, value, n uint32) Op {
	return Op{Prim: PrimSemaphore, Name: []byte(name), Value: value, N: n, Wait: forever}
}
func bsem(name string, value, n uint32) Op {
	return Op{Prim: PrimBoundedSemaphore, Name: []byte(name), Value: value, N: n, Wait: forever}
}
func rw(name string, shared bool, tok uint64) Op {
	return Op{Prim: PrimRWMutex, Name: []byte(name), Shared: shared, Token: tok, Wait: forever}
}
func (o Op) w(d time.Duration) Op { o.Wait = d; return o }

func status(name string, want func(st LockStatus) bool, what string) step {
	return expect(func(m machine) error {
		st, ok := m.Status(0, []byte(name))
		if !ok || !want(st) {
			return fmt.Errorf("Status(%q) = %+v,%v; want %s", name, st, ok, what)
		}
		return nil
	})
}

func gone(name string) step {
	return expect(func(m machine) error {
		if st, ok := m.Status(0, []byte(name)); ok {
			return fmt.Errorf("Status(%q) = %+v; want no state", name, st)
		}
		return nil
	})
}

func TestKinds(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"one kind per live name; a freed name may take another", []step{
			acq(0, 1, 1, "a", forever, 0, granted(1, 1, tk(1), "a")),
			acqK(0, 2, 1, rlock("a", 0), failed(2, 1, "a", ErrWrongKind)),
			acqK(0, 2, 2, sem("a", 1, 1), failed(2, 2, "a", ErrWrongKind)),
			relK(0, 2, 3, rw("a", false, tk(1)), failed(2, 3, "a", ErrWrongKind)),
			acqK(0, 2, 4, sem("b", 2, 1), granted(2, 4, tk(2), "b")),
			acq(0, 1, 2, "b", forever, 0, failed(1, 2, "b", ErrWrongKind)),
			rel(0, 1, 3, "b", tk(2), failed(1, 3, "b", ErrWrongKind)),
			renew(0, 1, 4, "b", tk(2), 5, failed(1, 4, "b", ErrWrongKind)),
			acqK(0, 1, 5, sem("b", 3, 1), failed(1, 5, "b", ErrWrongKind)),  // another value
			acqK(0, 1, 6, bsem("b", 2, 1), failed(1, 6, "b", ErrWrongKind)), // bounded is another kind
			relK(0, 1, 7, sem("b", 3, 1), failed(1, 7, "b", ErrWrongKind)),
			rel(0, 1, 8, "a", tk(1), done(1, 8, tk(1), "a")),
			acqK(0, 2, 5, rlock("a", 9), granted(2, 5, tk(3), "a")), // "a" was freed: now an rlock
			acqK(0, 2, 6, sem("c", 1, 0), failed(2, 6, "c", ErrInvalid)),
			acqK(0, 2, 7, Op{Prim: numPrims, Name: []byte("c")}, failed(2, 7, "c", ErrInvalid)),
			acqK(0, 2, 8, Op{Prim: PrimMutex, Name: []byte("c")}, granted(2, 8, tk(4), "c")),
			relK(0, 2, 9, Op{Prim: PrimMutex, Name: []byte("c"), Token: tk(4)}, done(2, 9, tk(4), "c")),
		}},
		{"rlock: re-entry keeps the token, only the owner releases, the outermost release grants", []step{
			acqK(0, 1, 1, rlock("r", 7), granted(1, 1, tk(1), "r")),
			acqK(0, 2, 1, rlock("r", 7)),                            // same owner id, other session: another owner, waits
			acqK(0, 1, 2, rlock("r", 7), granted(1, 2, tk(1), "r")), // re-entry passes the waiter
			acqK(0, 1, 3, rlock("r", 8).w(0), failed(1, 3, "r", ErrTimeout)),
			relK(0, 1, 4, rlock("r", 8), failed(1, 4, "r", ErrNotOwner)),
			relK(0, 2, 4, rlock("r", 7), failed(2, 4, "r", ErrNotOwner)),
			relK(0, 1, 5, rlock("r", 7), done(1, 5, tk(1), "r")),
			status("r", func(st LockStatus) bool { return st.Holder == 1 && st.Waiters == 1 }, "still held by 1"),
			relK(0, 1, 6, rlock("r", 7), done(1, 6, tk(1), "r"), granted(2, 1, tk(2), "r")),
			relK(0, 1, 7, rlock("r", 7), failed(1, 7, "r", ErrNotOwner)),
			relK(0, 2, 5, rlock("r", 7), done(2, 5, tk(2), "r")),
			relK(0, 2, 6, rlock("r", 7), failed(2, 6, "r", ErrNotOwner)), // free: un-acquired
			gone("r"),
		}},
		{"semaphore: FIFO without starving a big request; crash returns permits", []step{
			acqK(0, 1, 1, sem("s", 3, 2), granted(1, 1, tk(1), "s")),
			acqK(0, 2, 1, sem("s", 3, 3)),                                     // waits for 3
			acqK(0, 3, 1, sem("s", 3, 1)),                                     // 1 is free, but it queues behind
			acqK(0, 4, 1, sem("s", 3, 1).w(0), failed(4, 1, "s", ErrTimeout)), // a try does not jump the queue
			status("s", func(st LockStatus) bool { return st.Value == 1 && st.Waiters == 2 && st.Holders == 1 }, "value 1"),
			closeS(1, 1, granted(2, 1, tk(2), "s")), // the 2 come back; 3 fit the head, the next waits
			relK(2, 2, 2, sem("s", 3, 3), done(2, 2, 0, "s"), granted(3, 1, tk(3), "s")),
			relK(3, 3, 2, sem("s", 3, 1), done(3, 2, 0, "s")),
			gone("s"),
		}},
		{"semaphore: a waiter that leaves unblocks the ones behind it", []step{
			acqK(0, 1, 1, sem("s", 2, 1), granted(1, 1, tk(1), "s")),
			acqK(0, 2, 1, sem("s", 2, 2).w(5)),
			acqK(0, 3, 1, sem("s", 2, 1)),
			acqK(0, 3, 2, sem("s", 2, 1)),
			tick(5, failed(2, 1, "s", ErrTimeout), granted(3, 1, tk(2), "s")),
			acqK(5, 4, 1, sem("s", 2, 2)),
			acqK(5, 5, 1, sem("s", 2, 1)),
			cancel(6, 3, 3, 2, failed(3, 2, "s", ErrCancelled), done(3, 3, 0, "")), // 4 still needs 2
			relK(7, 1, 2, sem("s", 2, 1), done(1, 2, 0, "s")),
			closeS(8, 4, granted(5, 1, tk(3), "s")), // a closing waiter unblocks too
		}},
		{"semaphore: any session may release; its permits are taken from the holders", []step{
			acqK(0, 1, 1, sem("s", 1, 1), granted(1, 1, tk(1), "s")),
			acqK(0, 4, 1, sem("s", 1, 3)),                     // keeps the name live
			relK(0, 2, 1, sem("s", 1, 2), done(2, 1, 0, "s")), // 1 from session 1, 1 surplus
			status("s", func(st LockStatus) bool { return st.Value == 2 && st.Holders == 0 }, "value 2, no holds"),
			closeS(1, 1), // its permit was given back already: nothing comes back twice
			status("s", func(st LockStatus) bool { return st.Value == 2 }, "still value 2"),
			relK(2, 2, 2, sem("s", 1, 1), done(2, 2, 0, "s"), granted(4, 1, tk(2), "s")),
		}},
		{"semaphore: own permits are released first, newest first", []step{
			acqK(0, 1, 1, sem("s", 4, 1), granted(1, 1, tk(1), "s")),
			acqK(0, 2, 1, sem("s", 4, 2), granted(2, 1, tk(2), "s")),
			acqK(0, 2, 2, sem("s", 4, 1), granted(2, 2, tk(3), "s")),
			relK(0, 2, 3, sem("s", 4, 2), done(2, 3, 0, "s")), // the 1 of req 2, then 1 of req 1
			status("s", func(st LockStatus) bool { return st.Value == 2 && st.Holders == 2 && st.Holder == 1 }, "1 and 2 hold"),
			relK(0, 2, 4, sem("s", 4, 2), done(2, 4, 0, "s")), // 1 own, then session 1's
			gone("s"),
		}},
		{"bounded semaphore: over-release fails and changes nothing", []step{
			acqK(0, 1, 1, bsem("b", 2, 1), granted(1, 1, tk(1), "b")),
			relK(0, 2, 1, bsem("b", 2, 2), failed(2, 1, "b", ErrOverRelease)),
			relK(0, 2, 2, bsem("b", 2, 1), done(2, 2, 0, "b")), // takes session 1's permit
			gone("b"),
			relK(0, 1, 2, bsem("b", 2, 1), failed(1, 2, "b", ErrOverRelease)), // as in Python
			relK(0, 1, 3, sem("x", 2, 1), done(1, 3, 0, "x")),                 // a plain one allows it
		}},
		{"rwmutex: readers together, FIFO-fair to writers, tokens on every grant", []step{
			acqK(0, 1, 1, rw("m", true, 0), granted(1, 1, tk(1), "m")),
			acqK(0, 2, 1, rw("m", true, 0), granted(2, 1, tk(2), "m")),
			acqK(0, 3, 1, rw("m", false, 0)),
			acqK(0, 4, 1, rw("m", true, 0)), // behind the writer: no writer starvation
			acqK(0, 5, 1, rw("m", true, 0)),
			acqK(0, 6, 1, rw("m", true, 0).w(0), failed(6, 1, "m", ErrTimeout)),
			relK(1, 1, 2, rw("m", true, tk(2)), failed(1, 2, "m", ErrNotHeld)), // another's token
			relK(1, 1, 2, rw("m", true, tk(1)), done(1, 2, tk(1), "m")),
			relK(1, 2, 2, rw("m", true, tk(2)), done(2, 2, tk(2), "m"), granted(3, 1, tk(3), "m")),
			status("m", func(st LockStatus) bool { return st.Holder == 3 && st.Holders == 1 && st.Waiters == 2 }, "writer"),
			relK(2, 3, 2, rw("m", false, tk(3)), done(3, 2, tk(3), "m"), granted(4, 1, tk(4), "m"), granted(5, 1, tk(5), "m")),
			closeS(3, 4),
			closeS(3, 5),
			gone("m"),
		}},
		{"rwmutex: a writer that times out lets the readers behind it in", []step{
			acqK(0, 1, 1, rw("m", true, 0), granted(1, 1, tk(1), "m")),
			acqK(0, 2, 1, rw("m", false, 0).w(5)),
			acqK(0, 3, 1, rw("m", true, 0)),
			tick(5, failed(2, 1, "m", ErrTimeout), granted(3, 1, tk(2), "m")),
			stats(Stats{Locks: 1, Sessions: 2}),
		}},
		{"hold cap counts holds of every kind, not re-entries", []step{
			acqK(0, 1, 1, rlock("r", 1), granted(1, 1, tk(1), "r")),
			acqK(0, 1, 2, rlock("r", 1), granted(1, 2, tk(1), "r")),
			acqK(0, 1, 3, sem("s", 1, 1), granted(1, 3, tk(2), "s")),
			acqK(0, 1, 4, rw("m", true, 0), failed(1, 4, "m", ErrTooManyHolds)),
			acq(0, 1, 5, "x", 0, 0, failed(1, 5, "x", ErrTooManyHolds)),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if c.name == "hold cap counts holds of every kind, not re-entries" {
				cfg.MaxHolds = 2
			}
			run(t, cfg, nil, c.steps)
		})
	}
}
