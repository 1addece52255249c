package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/wwly/wwly/client"
)

// holdRec is one hold as its client saw it: from the grant's arrival to just before its
// release was sent. Two holds of one name must never overlap.
type holdRec struct {
	name       string
	worker     int
	token      uint64
	start, end time.Time
}

// opRec is one acquire or release for the linearizability check; ok false marks an op whose
// outcome is unknown (its leader died), checked leniently.
type opRec struct {
	worker    int
	name      string
	acquire   bool
	token     uint64
	ok        bool
	call, ret time.Time
}

type hammerLog struct {
	mu      sync.Mutex
	holds   []holdRec
	ops     []opRec
	resumes map[int]time.Time // when each worker first took its session over after the kill
	errs    []error
}

func (h *hammerLog) add(f func(h *hammerLog)) {
	h.mu.Lock()
	f(h)
	h.mu.Unlock()
}

// hammerWorker takes one of the names, holds it briefly and releases it, over and over, on
// whichever member leads. When its connection dies holding a name, it resumes its session on
// the new leader and releases the name there with its token; when it dies with an acquire in
// flight (outcome unknown), it resumes and closes the session, which releases whatever it may
// have been granted, and opens a new one.
type hammerWorker struct {
	id    int
	addrs string
	names []string
	h     *hammerLog
	r     *rand.Rand
	cl    *client.Client
}

func (w *hammerWorker) run(ctx context.Context) {
	defer func() {
		if w.cl != nil {
			w.cl.Close()
		}
	}()
	for ctx.Err() == nil {
		if w.cl == nil {
			cl, err := dialCluster(ctx, w.addrs, 10*time.Second)
			if err != nil {
				if ctx.Err() == nil {
					w.h.add(func(h *hammerLog) { h.errs = append(h.errs, fmt.Errorf("worker %d: dial: %w", w.id, err)) })
				}
				return
			}
			w.cl = cl
		}
		w.step(ctx)
	}
}

func (w *hammerWorker) step(ctx context.Context) {
	name := w.names[w.r.IntN(len(w.names))]
	m := w.cl.Mutex(name)
	actx, cancel := context.WithTimeout(ctx, 3*time.Second)
	call := time.Now()
	err := m.LockContext(actx)
	cancel()
	ret := time.Now()
	if err != nil {
		w.h.add(func(h *hammerLog) {
			h.ops = append(h.ops, opRec{worker: w.id, name: name, acquire: true, call: call, ret: ret})
		})
		if w.cl.Err() != nil { // the connection died: the outcome is unknown
			w.dropSession(ctx)
		}
		return
	}
	tok := m.Token()
	time.Sleep(time.Duration(w.r.IntN(2000)) * time.Microsecond)
	end := time.Now()
	w.h.add(func(h *hammerLog) {
		h.holds = append(h.holds, holdRec{name: name, worker: w.id, token: tok, start: ret, end: end})
		h.ops = append(h.ops, opRec{worker: w.id, name: name, acquire: true, token: tok, ok: true, call: call, ret: ret})
	})
	uctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	err = m.UnlockContext(uctx)
	cancel()
	if err != nil && w.cl.Err() != nil {
		err = w.releaseResumed(name, tok)
	}
	if errors.Is(err, client.ErrNotHeld) {
		err = nil // the first release was applied before the leader died; the retry found it done
	}
	done := time.Now()
	w.h.add(func(h *hammerLog) {
		if err != nil {
			h.errs = append(h.errs, fmt.Errorf("worker %d: release %s %#x: %w", w.id, name, tok, err))
			// Checked as a release that may take effect any time from now on.
			h.ops = append(h.ops, opRec{worker: w.id, name: name, token: tok, call: end, ret: done.Add(time.Hour)})
			return
		}
		h.ops = append(h.ops, opRec{worker: w.id, name: name, token: tok, ok: true, call: end, ret: done})
	})
}

// resume takes the worker's session over on the new leader.
func (w *hammerWorker) resume() (*client.Client, error) {
	sess, secret := w.cl.Session(), w.cl.Secret()
	w.cl.Close()
	w.cl = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := dialCluster(ctx, w.addrs, 10*time.Second, client.WithResume(sess, secret))
	if err != nil {
		return nil, fmt.Errorf("resume session %d: %w", sess, err)
	}
	at := time.Now()
	w.h.add(func(h *hammerLog) {
		if _, ok := h.resumes[w.id]; !ok {
			h.resumes[w.id] = at
		}
	})
	return r, nil
}

// releaseResumed releases name on the new leader after its leader died under the release.
func (w *hammerWorker) releaseResumed(name string, tok uint64) error {
	r, err := w.resume()
	if err != nil {
		return err
	}
	w.cl = r
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return r.ReleaseToken(ctx, name, tok)
}

// dropSession resumes the session and closes it, so whatever it may hold passes on.
func (w *hammerWorker) dropSession(ctx context.Context) {
	r, err := w.resume()
	if err != nil {
		if ctx.Err() == nil {
			w.h.add(func(h *hammerLog) { h.errs = append(h.errs, fmt.Errorf("worker %d: %w", w.id, err)) })
		}
		return
	}
	r.Close()
}

// TestClusterKillLeader: 16 clients hammer 4 names on a 3-process cluster; the leader is killed
// with SIGKILL. No two holds of a name overlap, tokens rise per name and across the kill, the
// history is linearizable, and the clients resume their sessions (holds included) within two
// election timeouts of the new leader's election.
func TestClusterKillLeader(t *testing.T) {
	c := startProcCluster(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &hammerLog{resumes: map[int]time.Time{}}
	names := []string{"n0", "n1", "n2", "n3"}
	var wg sync.WaitGroup
	for i := range 16 {
		w := &hammerWorker{id: i, addrs: c.addrs(), names: names, h: h, r: rand.New(rand.NewPCG(uint64(i), 10))}
		wg.Go(func() { w.run(ctx) })
	}
	time.Sleep(1500 * time.Millisecond)
	first := c.leader(5 * time.Second)
	h.add(func(h *hammerLog) { clear(h.resumes) }) // a load-induced election before the kill is not this failover
	killAt := time.Now()
	c.kill9(first)
	second := c.leader(10 * time.Second)
	elected := time.Now()
	time.Sleep(2*testElection + time.Second)
	cancel()
	wg.Wait()
	for _, err := range h.errs {
		t.Error(err)
	}
	for _, err := range overlaps(h.holds) {
		t.Error(err)
	}
	checkKill(t, h, killAt, elected)
	checkLinearizable(t, h.ops, len(names))
	t.Logf("leader %s killed, %s elected; %d holds", c.members[first].id, c.members[second].id, len(h.holds))
}

// checkKill: tokens granted after the kill are above every one granted before it; sessions
// resumed within the resume grace (the time since the election, probed, so an upper bound, is
// logged beside the goal of 2 election timeouts); the time from the kill to the next grant is
// logged.
func checkKill(t *testing.T, h *hammerLog, killAt, elected time.Time) {
	t.Helper()
	var maxOld uint64
	var firstNew time.Time
	minNew := ^uint64(0)
	for _, hd := range h.holds {
		if hd.start.Before(killAt) {
			maxOld = max(maxOld, hd.token)
			continue
		}
		minNew = min(minNew, hd.token)
		if firstNew.IsZero() || hd.start.Before(firstNew) {
			firstNew = hd.start
		}
	}
	if firstNew.IsZero() {
		t.Fatal("no grant after the kill")
	}
	if minNew <= maxOld {
		t.Errorf("token %#x granted after the kill, not above %#x granted before it", minNew, maxOld)
	}
	var last time.Time
	for _, at := range h.resumes {
		if at.After(last) {
			last = at
		}
	}
	if len(h.resumes) == 0 {
		t.Error("no session resumed after the kill")
	} else if d := last.Sub(elected); d > testGrace {
		// Past the grace the leader closes the session and its holds pass on: that is a failure.
		// The goal (within 2 election timeouts) is a figure to report, not a timed
		// assertion a loaded machine could fail: it is logged below.
		t.Errorf("last resume %v after the election, past the resume grace (%v)", d, testGrace)
	}
	t.Logf("kill -9 to next grant: %v; kill to election seen: %v; %d sessions resumed, the last %v after the kill and %v after the election (goal: within 2 election timeouts, %v; raft timeouts %v/%v)",
		firstNew.Sub(killAt).Round(time.Millisecond), elected.Sub(killAt).Round(time.Millisecond), len(h.resumes),
		last.Sub(killAt).Round(time.Millisecond), last.Sub(elected).Round(time.Millisecond), 2*testElection,
		testHeartbeat, testElection)
}

// overlaps reports holds of one name that overlap, and tokens that do not rise in hold order.
func overlaps(holds []holdRec) []error {
	byName := map[string][]holdRec{}
	for _, hd := range holds {
		byName[hd.name] = append(byName[hd.name], hd)
	}
	var errs []error
	for name, hs := range byName {
		slices.SortFunc(hs, func(a, b holdRec) int { return a.start.Compare(b.start) })
		for i := 1; i < len(hs); i++ {
			if a, b := hs[i-1], hs[i]; !a.end.Before(b.start) {
				errs = append(errs, fmt.Errorf("%s: hold of worker %d (token %#x, %v..%v) overlaps worker %d's (token %#x, from %v)",
					name, a.worker, a.token, a.start, a.end, b.worker, b.token, b.start))
			} else if b.token <= a.token {
				errs = append(errs, fmt.Errorf("%s: token %#x after %#x", name, b.token, a.token))
			}
		}
	}
	return errs
}

// lockSpec is the sequential state of one name: its holder (-1: free) and the last token.
type lockSpec struct {
	holder int
	last   uint64
}

// lockModel is a mutex with fencing tokens, one partition per name. An acquire whose outcome is
// unknown is a no-op, so the check can miss a fault hidden by the failover but never report a
// false one.
var lockModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		byName := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range ops {
			n := op.Input.(opRec).name
			if _, ok := byName[n]; !ok {
				order = append(order, n)
			}
			byName[n] = append(byName[n], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, n := range order {
			out = append(out, byName[n])
		}
		return out
	},
	Init: func() any { return lockSpec{holder: -1} },
	Step: func(state, input, _ any) (bool, any) {
		st, op := state.(lockSpec), input.(opRec)
		switch {
		case op.acquire && !op.ok:
			return true, st
		case op.acquire:
			return st.holder == -1 && op.token > st.last, lockSpec{holder: op.worker, last: op.token}
		case st.holder == op.worker && st.last == op.token:
			return true, lockSpec{holder: -1, last: st.last}
		}
		return !op.ok, st // a release of unknown outcome may also have been a no-op
	},
	DescribeOperation: func(input, _ any) string {
		op := input.(opRec)
		return fmt.Sprintf("worker %d acquire=%v %s %#x ok=%v", op.worker, op.acquire, op.name, op.token, op.ok)
	},
}

func checkLinearizable(t *testing.T, ops []opRec, names int) {
	t.Helper()
	if len(ops) == 0 {
		t.Fatal("no operations recorded")
	}
	base := ops[0].call
	for _, op := range ops {
		if op.call.Before(base) {
			base = op.call
		}
	}
	hist := make([]porcupine.Operation, len(ops))
	for i, op := range ops {
		hist[i] = porcupine.Operation{ClientId: op.worker, Input: op, Call: int64(op.call.Sub(base)), Return: int64(op.ret.Sub(base))}
	}
	if res := porcupine.CheckOperationsTimeout(lockModel, hist, 10*time.Second); res != porcupine.Ok {
		t.Errorf("porcupine: history of %d operations is %v (Illegal: not linearizable; Unknown: timed out)", len(ops), res)
		return
	}
	t.Logf("porcupine: %d operations on %d names linearizable", len(ops), names)
}

// TestCheckersCatch: the two history checks fail on the faults they are for.
func TestCheckersCatch(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tests := []struct {
		name    string
		holds   []holdRec
		overlap bool
	}{
		{"disjoint", []holdRec{{name: "a", token: 1, start: at(0), end: at(1)}, {name: "a", token: 2, start: at(2), end: at(3)}}, false},
		{"other names may overlap", []holdRec{{name: "a", token: 1, start: at(0), end: at(5)}, {name: "b", token: 2, start: at(1), end: at(3)}}, false},
		{"overlap", []holdRec{{name: "a", token: 1, start: at(0), end: at(5)}, {name: "a", token: 2, start: at(4), end: at(6)}}, true},
		{"token back", []holdRec{{name: "a", token: 2, start: at(0), end: at(1)}, {name: "a", token: 1, start: at(2), end: at(3)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(overlaps(tt.holds)) > 0; got != tt.overlap {
				t.Fatalf("overlaps reported %v, want %v", got, tt.overlap)
			}
		})
	}
	ops := []porcupine.Operation{
		{ClientId: 0, Input: opRec{worker: 0, name: "a", acquire: true, token: 1, ok: true}, Call: 0, Return: 1},
		{ClientId: 1, Input: opRec{worker: 1, name: "a", acquire: true, token: 2, ok: true}, Call: 2, Return: 3},
		{ClientId: 0, Input: opRec{worker: 0, name: "a", token: 1, ok: true}, Call: 4, Return: 5},
	}
	if res := porcupine.CheckOperationsTimeout(lockModel, ops, 5*time.Second); res != porcupine.Illegal {
		t.Fatalf("double grant checked as %v, want Illegal", res)
	}
	ops[2].Call, ops[2].Return = 2, 3
	ops[1].Call, ops[1].Return = 4, 6
	if res := porcupine.CheckOperationsTimeout(lockModel, ops, 5*time.Second); res != porcupine.Ok {
		t.Fatalf("grant after release checked as %v, want Ok", res)
	}
}
