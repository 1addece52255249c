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

// noteEngine counts the events of sh's engine after a call on behalf of (kind, sid, req);
// kind 0 is a timer tick. Call it before the events are routed and cleared.
func (l *loop) noteEngine(sh *shard, kind reqKind, sid engine.SessionID, req uint64, now int64) {
	st := &l.st
	answered := false // the request itself got its reply in this call
	evs := sh.eng.Events()
	for i := range evs {
		ev := &evs[i]
		own := kind != 0 && ev.Session == sid && ev.Req == req
		switch ev.Kind {
		case engine.Granted:
			st.grants++
			if own && kind == rAcquire {
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
			if own && kind == rAcquire {
				answered = true // a duplicate request id must not drop the original's time
			} else {
				sh.waits.take(ev.Session, ev.Req)
			}
		case engine.Done:
			if own {
				switch kind {
				case rRelease:
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
	case rAcquire:
		if !answered {
			sh.waits.queued(sid, req, now)
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
