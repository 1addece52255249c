package engine

import "testing"

// cv is a Condition wait or notify on name, bound to the lock named lock, by the holder of
// that lock under tok (a Mutex) or as owner (an RLock).
func cv(name, lock string, tok, owner uint64) Op {
	return Op{Prim: PrimCondition, Name: []byte(name), Lock: []byte(lock), Token: tok, Owner: owner, Wait: forever}
}

// regranted is the Granted that ends a Condition wait: the lock is held again under tok; err is
// ErrTimeout when the wait timed out.
func regranted(s SessionID, req, tok uint64, lock string, err error) Event {
	e := granted(s, req, tok, lock)
	e.Err = err
	return e
}

func TestConditions(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"wait releases the mutex; notify re-queues the waiter for it; it returns holding it", []step{
			acq(0, 1, 1, "m", forever, 0, granted(1, 1, tk(1), "m")),
			acqK(0, 1, 2, cv("c", "m", tk(1), 0)),                    // consumer waits: m is free
			acq(1, 2, 1, "m", forever, 0, granted(2, 1, tk(2), "m")), // producer takes it
			acq(1, 3, 1, "m", forever, 0),                            // someone else queues for m
			signal(2, 2, 2, ActNotify, cv("c", "m", tk(2), 0), done(2, 2, 0, "c")),
			holder("m", 2, tk(2), 2), // the consumer queued behind session 3
			rel(3, 2, 3, "m", tk(2), done(2, 3, tk(2), "m"), granted(3, 1, tk(3), "m")),
			rel(4, 3, 2, "m", tk(3), done(3, 2, tk(3), "m"), granted(1, 2, tk(4), "m")),
			gone("c"),
		}},
		{"wait and notify need the lock; the bound lock is part of the condition", []step{
			acq(0, 1, 1, "m", forever, 0, granted(1, 1, tk(1), "m")),
			acqK(0, 2, 1, cv("c", "m", tk(1), 0), failed(2, 1, "c", ErrNotOwner)), // not its lock
			acqK(0, 1, 2, cv("c", "m", tk(9), 0), failed(1, 2, "c", ErrNotOwner)), // stale token
			signal(0, 2, 2, ActNotify, cv("c", "m", tk(1), 0), failed(2, 2, "c", ErrNotOwner)),
			acqK(0, 1, 3, cv("c", "m", tk(1), 0)),
			acq(0, 2, 3, "n", forever, 0, granted(2, 3, tk(2), "n")),
			acqK(0, 2, 4, cv("c", "n", tk(2), 0), failed(2, 4, "c", ErrWrongKind)), // c is bound to m
			acqK(0, 2, 5, Op{Prim: PrimCondition, Name: []byte("c")}, failed(2, 5, "c", ErrInvalid)),
		}},
		{"timeout: the wait re-acquires the lock and then reports ErrTimeout", []step{
			acq(0, 1, 1, "m", forever, 0, granted(1, 1, tk(1), "m")),
			acqK(0, 1, 2, cv("c", "m", tk(1), 0).w(5)),
			acq(1, 2, 1, "m", forever, 0, granted(2, 1, tk(2), "m")),
			tick(5), // back in m's queue
			holder("m", 2, tk(2), 1),
			rel(6, 2, 2, "m", tk(2), done(2, 2, tk(2), "m"), regranted(1, 2, tk(3), "m", ErrTimeout)),
			acqK(7, 1, 3, cv("c", "m", tk(3), 0).w(0), regranted(1, 3, tk(4), "m", ErrTimeout)), // wait(0)
		}},
		{"notify(n) wakes the oldest n; notify_all the rest", []step{
			acq(0, 1, 1, "m", forever, 0, granted(1, 1, tk(1), "m")),
			acqK(0, 1, 2, cv("c", "m", tk(1), 0)),
			acq(0, 2, 1, "m", forever, 0, granted(2, 1, tk(2), "m")),
			acqK(0, 2, 2, cv("c", "m", tk(2), 0)),
			acq(0, 3, 1, "m", forever, 0, granted(3, 1, tk(3), "m")),
			acqK(0, 3, 2, cv("c", "m", tk(3), 0)),
			acq(0, 4, 1, "m", forever, 0, granted(4, 1, tk(4), "m")),
			signal(0, 4, 2, ActNotify, Op{Prim: PrimCondition, Name: []byte("c"), Lock: []byte("m"), Token: tk(4), N: 2},
				done(4, 2, 0, "c")),
			holder("m", 4, tk(4), 2),
			signal(0, 4, 3, ActNotifyAll, cv("c", "m", tk(4), 0), done(4, 3, 0, "c")),
			holder("m", 4, tk(4), 3),
			rel(1, 4, 4, "m", tk(4), done(4, 4, tk(4), "m"), granted(1, 2, tk(5), "m")),
			signal(1, 1, 3, ActNotify, cv("c", "m", tk(5), 0), done(1, 3, 0, "c")), // nobody waits: a no-op
		}},
		{"rlock: wait releases every level; the waiter gets them all back with a new token", []step{
			acqK(0, 1, 1, rlock("r", 7), granted(1, 1, tk(1), "r")),
			acqK(0, 1, 2, rlock("r", 7), granted(1, 2, tk(1), "r")),
			acqK(0, 1, 3, cv("c", "r", 0, 7)),
			acqK(0, 2, 1, rlock("r", 1), granted(2, 1, tk(2), "r")),
			signal(0, 2, 2, ActNotify, cv("c", "r", 0, 1), done(2, 2, 0, "c")),
			relK(0, 2, 3, rlock("r", 1), done(2, 3, tk(2), "r"), granted(1, 3, tk(3), "r")),
			relK(0, 1, 4, rlock("r", 7), done(1, 4, tk(3), "r")),
			relK(0, 1, 5, rlock("r", 7), done(1, 5, tk(3), "r")), // depth 2 again
			relK(0, 1, 6, rlock("r", 7), failed(1, 6, "r", ErrNotOwner)),
		}},
		{"cancel or close ends a condition wait without the lock", []step{
			acq(0, 1, 1, "m", forever, 0, granted(1, 1, tk(1), "m")),
			acqK(0, 1, 2, cv("c", "m", tk(1), 0)),
			cancel(1, 1, 3, 2, failed(1, 2, "c", ErrCancelled), done(1, 3, 0, "")),
			gone("m"),
			acq(2, 2, 1, "m", forever, 0, granted(2, 1, tk(2), "m")),
			acqK(2, 2, 2, cv("c", "m", tk(2), 0)),
			closeS(3, 2),
			stats(Stats{}),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, DefaultConfig(), nil, c.steps) })
	}
}
