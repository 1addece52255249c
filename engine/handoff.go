package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Handoff is the policy for a mutex that its holder releases while others wait.
//
// The zero value is strict FIFO: every release with waiters grants the oldest waiter, so each
// handoff wakes another process (on a 2-core box that wake-up is most of a handoff's cost).
//
// Barge > 0 is bounded barging: when the holder releases and at once asks for the same name
// again (ReleaseAcquire: a pipelined release+acquire, the next cycle of a worker), it may keep
// the lock, under a fresh token, up to Barge times in a row while others wait; the next such
// release hands the lock to the oldest waiter, and the releaser queues at the tail. Waiters keep
// their FIFO order among themselves and every grant still carries a rising token; what the
// policy gives up is the wait of the head waiter, which may sit through up to Barge extra
// critical sections of the barger. docs/performance.md measures the trade-off.
type Handoff struct {
	// Barge is how many times in a row the releaser may re-take the lock while others wait;
	// 0 is strict FIFO.
	Barge int
}

// MaxBarge bounds Handoff.Barge: a larger bound would let one session starve a queue for
// seconds, which no throughput gain here is worth.
const MaxBarge = 1 << 16

// ErrHandoff is wrapped by ParseHandoff's errors.
var ErrHandoff = errors.New("engine: bad handoff policy")

// HandoffFIFO is the default policy: strict FIFO.
var HandoffFIFO = Handoff{}

// ParseHandoff reads a policy as String writes it: "fifo" or "barge:N" with 1 <= N <= MaxBarge.
func ParseHandoff(s string) (Handoff, error) {
	if s == "fifo" {
		return HandoffFIFO, nil
	}
	v, ok := strings.CutPrefix(s, "barge:")
	if !ok {
		return Handoff{}, fmt.Errorf("%w: %q, want fifo or barge:N", ErrHandoff, s)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxBarge {
		return Handoff{}, fmt.Errorf("%w: %q, want barge:N with N in 1..%d", ErrHandoff, s, MaxBarge)
	}
	return Handoff{Barge: n}, nil
}

// String renders the policy as ParseHandoff reads it.
func (h Handoff) String() string {
	if h.Barge == 0 {
		return "fifo"
	}
	return "barge:" + strconv.Itoa(h.Barge)
}

// ReleaseAcquire is a Release of name by s under token followed at once by an Acquire of the
// same name by s with acqReq, wait and ttl: what a transport sees when a client pipelines its
// release with its next acquire. Under strict FIFO (or when the release fails, nobody waits,
// or the streak is used up) it is exactly Release then Acquire, events included. Under
// Handoff.Barge = N, when the release succeeds while others wait and s has re-taken the lock
// fewer than N times in a row since it last changed hands, s keeps it: Done(relReq), then
// Granted(acqReq) with a fresh token, and the queue is untouched.
func (e *Engine) ReleaseAcquire(now int64, s SessionID, relReq uint64, name []byte, token uint64, acqReq uint64, wait, ttl time.Duration) {
	l := e.lookup(name)
	if l == nil || l.holder == nil || l.holder.id != s || l.token != token ||
		l.nwait == 0 || l.barges >= e.cfg.Handoff.Barge || e.waiting[waitKey{s, acqReq}] != nil {
		e.Release(now, s, relReq, name, token)
		e.Acquire(now, s, acqReq, name, wait, ttl)
		return
	}
	e.emit(Done, s, relReq, token, l.name, nil)
	sess, streak := l.holder, l.barges
	e.detachHolder(l) // the session keeps its other count: the grant below links it again
	e.grant(now, l, sess, acqReq, ttl, 0)
	l.barges = streak + 1
}
