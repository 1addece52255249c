//go:build !wwly_nostats

package server

import (
	"errors"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

// The counting half of the server's statistics (see stats.go). Every function here runs on the
// goroutine of the loop l and only does plain adds on l's counters; noteEngine also owns sh's
// grantWaits (the caller has the right to touch sh). The wwly_nostats build swaps them for empty
// ones (stats_nocount.go) to measure what counting costs.

// noteEngine counts the events of sh's engine after the call r (nil: a timer tick). Call it
// before the events are routed and cleared.
func (l *loop) noteEngine(sh *shard, r *request, now int64) {
	st := &l.st
	var kind reqKind
	var sid engine.SessionID
	var rel, acq uint64 // the request ids whose Done is a release and whose grant is immediate
	if r != nil {
		kind, sid = r.kind, r.sid
		switch kind {
		case rAcquire:
			acq = r.req
		case rReleaseAcquire:
			rel, acq = r.req, r.acq
		default:
			rel = r.req
		}
	}
	answered := false // the acquire itself got its reply in this call
	evs := sh.eng.Events()
	for i := range evs {
		ev := &evs[i]
		ownAcq := (kind == rAcquire || kind == rReleaseAcquire) && ev.Session == sid && ev.Req == acq
		switch ev.Kind {
		case engine.Granted:
			st.grants++
			if ownAcq {
				answered = true
				st.wait.observe(0)
			} else if t, ok := sh.waits.take(ev.Session, ev.Req); ok {
				st.wait.observe(now - t)
			}
		case engine.Failed:
			st.errors[codeSlot(errorCode(ev.Err))]++
			switch {
			case errors.Is(ev.Err, engine.ErrTimeout):
				st.timeouts++
			case errors.Is(ev.Err, engine.ErrCancelled):
				st.cancellations++
			}
			if ownAcq {
				answered = true // a duplicate request id must not drop the original's time
			} else if !(kind == rReleaseAcquire && ev.Session == sid && ev.Req == rel) {
				sh.waits.take(ev.Session, ev.Req)
			}
		case engine.Done:
			if kind != 0 && ev.Session == sid && ev.Req == rel {
				switch kind {
				case rRelease, rReleaseAcquire:
					st.releases++
				case rRenew:
					st.renewals++
				}
			}
		case engine.Lost:
			st.leasesLost++
		}
	}
	switch kind {
	case rAcquire, rReleaseAcquire:
		if !answered {
			sh.waits.queued(sid, acq, now)
		}
	case rCloseSession:
		sh.waits.drop(sid)
	}
}

// noteError counts one ERROR frame sent by the transport itself (not from an engine event).
func (l *loop) noteError(code wire.Code) { l.st.errors[codeSlot(code)]++ }

// noteCut counts a connection the server cut (cutSlowConsumer, cutHeartbeat).
func (l *loop) noteCut(reason int) { l.st.cuts[reason]++ }

// noteAccept counts an accepted connection.
func (l *loop) noteAccept() { l.st.accepted++ }

// noteSessionClosed counts a session (past HELLO) that went away.
func (l *loop) noteSessionClosed() { l.st.sessionsGone++ }

func codeSlot(c wire.Code) int {
	if int(c) >= maxCodes {
		return int(wire.CodeInternal)
	}
	return int(c)
}
