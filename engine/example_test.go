package engine_test

import (
	"fmt"
	"time"

	"github.com/wwly/wwly/engine"
)

// The transport's loop: feed each decoded request with the current time, drain the events
// (copying what it keeps), clear them, and arm one timer at NextDeadline.
func Example() {
	e, err := engine.New(engine.DefaultConfig())
	if err != nil {
		panic(err)
	}
	drain := func() {
		for _, ev := range e.Events() {
			// A real transport encodes ev into the session's outbound buffer here.
			fmt.Printf("to session %d: %v req=%d name=%s err=%v\n", ev.Session, ev.Kind, ev.Req, ev.Name, ev.Err)
		}
		e.ClearEvents() // ev.Name is invalid from here on
	}
	var now int64 // nanoseconds on the transport's monotonic clock

	e.Acquire(now, 1, 100, []byte("jobs"), -1, 0)            // session 1 takes the lock
	e.Acquire(now, 2, 200, []byte("jobs"), 5*time.Second, 0) // session 2 queues up to 5 s
	e.Acquire(now, 3, 300, []byte("jobs"), time.Second, 0)   // session 3 queues up to 1 s
	tok := e.Events()[0].Token
	drain()

	if at, ok := e.NextDeadline(); ok {
		now = at // the transport's timer fired
		e.Tick(now)
		drain()
	}

	e.Release(now, 1, 101, []byte("jobs"), tok) // Done to 1, then exactly one grant
	drain()

	e.CloseSession(now, 2) // connection dropped: its lock is freed at once
	drain()
	fmt.Printf("%+v\n", e.Stats())
	// Output:
	// to session 1: Granted req=100 name=jobs err=<nil>
	// to session 3: Failed req=300 name=jobs err=engine: wait timed out
	// to session 1: Done req=101 name=jobs err=<nil>
	// to session 2: Granted req=200 name=jobs err=<nil>
	// {Locks:0 Waiters:0 Sessions:0}
}

// A lease that is not renewed is lost at the next Tick past its deadline, and the next
// waiter is granted with a higher fencing token, which storage can use to reject the old holder.
func ExampleEngine_Tick() {
	e, _ := engine.New(engine.DefaultConfig())
	e.Acquire(0, 1, 1, []byte("db"), -1, 10*time.Second)
	e.Acquire(0, 2, 1, []byte("db"), -1, 0)
	e.ClearEvents()
	e.Tick(int64(10 * time.Second))
	for _, ev := range e.Events() {
		fmt.Printf("%v session=%d token=%#x\n", ev.Kind, ev.Session, ev.Token)
	}
	// Output:
	// Lost session=1 token=0x10000000001
	// Granted session=2 token=0x10000000002
}

// A Semaphore(2): the third request waits; a session that dies gives its permits back at once.
func ExampleEngine_AcquireKind() {
	e, _ := engine.New(engine.DefaultConfig())
	op := engine.Op{Prim: engine.PrimSemaphore, Name: []byte("gpus"), Value: 2, N: 1, Wait: -1}
	e.AcquireKind(0, 1, 1, op)
	e.AcquireKind(0, 2, 1, op)
	e.AcquireKind(0, 3, 1, op) // waits
	e.CloseSession(1, 1)       // session 1 dies holding a permit
	for _, ev := range e.Events() {
		fmt.Printf("session %d: %v\n", ev.Session, ev.Kind)
	}
	// Output:
	// session 1: Granted
	// session 2: Granted
	// session 3: Granted
}

// An Event: set wakes every waiter in one call; the flag outlives them while someone has the
// name open.
func ExampleEngine_Signal() {
	e, _ := engine.New(engine.DefaultConfig())
	ev := engine.Op{Prim: engine.PrimEvent, Name: []byte("ready"), Wait: -1}
	e.Open(0, 9, 1, ev)
	e.AcquireKind(0, 1, 1, ev)
	e.AcquireKind(0, 2, 1, ev)
	e.ClearEvents()
	e.Signal(1, 9, 2, engine.ActSet, ev)
	ev.Wait = 0 // is_set
	e.AcquireKind(2, 3, 1, ev)
	for _, x := range e.Events() {
		fmt.Printf("session %d: %v\n", x.Session, x.Kind)
	}
	// Output:
	// session 9: Done
	// session 1: Granted
	// session 2: Granted
	// session 3: Granted
}
