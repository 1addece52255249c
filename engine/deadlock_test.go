package engine

import "testing"

func mx(name string, owner uint64, detect bool) Op {
	return Op{Prim: PrimMutex, Name: []byte(name), Owner: owner, Wait: forever, Detect: detect}
}
func (o Op) detect() Op         { o.Detect = true; return o }
func (o Op) owner(id uint64) Op { o.Owner = id; return o }

// deadlocked is the Failed(ErrDeadlock) of an acquire of name, with its cycle.
func deadlocked(s SessionID, req uint64, name string, cycle ...Hop) Event {
	e := failed(s, req, name, ErrDeadlock)
	e.Cycle = cycle
	return e
}

func hop(s SessionID, owner uint64, name string) Hop {
	return Hop{Session: s, Owner: owner, Name: []byte(name)}
}

func TestDeadlock(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
	}{
		{"two sessions, two mutexes: the second waiter is told at once, naming the cycle", []step{
			acqK(0, 1, 1, mx("a", 0, true), granted(1, 1, tk(1), "a")),
			acqK(0, 2, 1, mx("b", 0, true), granted(2, 1, tk(2), "b")),
			acqK(0, 1, 2, mx("b", 0, true)), // waits for 2: no cycle yet
			acqK(0, 2, 2, mx("a", 0, true), deadlocked(2, 2, "a", hop(2, 0, "a"), hop(1, 0, "b"))),
			acqK(0, 2, 3, mx("a", 0, false)), // without the flag it waits (and would hang)
			stats(Stats{Locks: 2, Waiters: 2, Sessions: 2}),
		}},
		{"owners within one session are distinct; one owner waiting on itself is a cycle", []step{
			acqK(0, 1, 1, mx("a", 1, true), granted(1, 1, tk(1), "a")),
			acqK(0, 1, 2, mx("a", 2, true)), // another goroutine of the session: it just waits
			acqK(0, 1, 3, mx("a", 1, true), deadlocked(1, 3, "a", hop(1, 1, "a"))),
		}},
		{"a three-owner cycle through an RLock and an exclusive RWMutex", []step{
			acqK(0, 1, 1, rlock("r", 5), granted(1, 1, tk(1), "r")),
			acqK(0, 2, 1, rw("w", false, 0), granted(2, 1, tk(2), "w")),
			acqK(0, 3, 1, mx("m", 0, false), granted(3, 1, tk(3), "m")),
			acqK(0, 1, 2, rw("w", true, 0).owner(4)),          // owner 4 is not the RLock's owner 5: no edge
			acqK(0, 1, 3, rw("w", true, 0).owner(5).detect()), // shared, blocked by the writer
			acqK(0, 2, 2, mx("m", 0, false)),
			acqK(0, 3, 2, rlock("r", 0).detect(), deadlocked(3, 2, "r", hop(3, 0, "r"), hop(1, 5, "w"), hop(2, 0, "m"))),
		}},
		{"semaphores, shared holds and events bind no owner: no cycle through them", []step{
			acqK(0, 1, 1, rw("w", true, 0), granted(1, 1, tk(1), "w")),
			acqK(0, 2, 1, mx("m", 0, false), granted(2, 1, tk(2), "m")),
			acqK(0, 2, 2, rw("w", false, 0).detect()), // blocked by a shared hold: no edge
			acqK(0, 1, 2, mx("m", 0, true)),           // so no cycle is seen (it is one in fact)
			acqK(0, 3, 1, sem("s", 1, 1), granted(3, 1, tk(3), "s")),
			acqK(0, 4, 1, mx("n", 0, false), granted(4, 1, tk(4), "n")),
			acqK(0, 4, 2, sem("s", 1, 1).detect()),
			acqK(0, 3, 2, mx("n", 0, true)),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { run(t, DefaultConfig(), nil, c.steps) })
	}
}
