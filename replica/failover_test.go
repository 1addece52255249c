package replica

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

	"github.com/wwly/wwly/engine"
)

// holdRec is one hold as its client saw it: from the Granted's arrival to just before the
// release was sent. Two holds of one name must never overlap.
type holdRec struct {
	name       string
	client     int
	token      uint64
	node       int       // the node that delivered the grant
	call       time.Time // when the acquire was sent
	start, end time.Time
}

// opRec is one acquire or release for the linearizability check.
type opRec struct {
	client    int
	name      string
	acquire   bool
	token     uint64 // granted (acquire) or released (release)
	ok        bool   // the outcome is known; ambiguous ops are checked as no-ops
	call, ret time.Time
}

type history struct {
	mu    sync.Mutex
	holds []holdRec
	ops   []opRec
	errs  []error
}

func (h *history) add(f func(h *history)) {
	h.mu.Lock()
	f(h)
	h.mu.Unlock()
}

// worker is one client: it acquires one of the names, holds it briefly, releases it, through
// whichever node leads. Holds survive a failover (the client releases through the new
// leader); an acquire whose outcome is unknown (its leader died) makes the client close its
// session, which releases anything it may have been granted, and open a new one.
type worker struct {
	id        int
	c         *cluster
	h         *history
	names     []string
	r         *rand.Rand
	sess      engine.SessionID
	req       uint64
	mustClose bool
}

func (w *worker) node(ctx context.Context) (int, *Node, error) {
	li, err := w.c.leader(3 * time.Second)
	if err != nil {
		return -1, nil, err
	}
	return li, w.c.nodes[li], ctx.Err()
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		_, nd, err := w.node(ctx)
		if err != nil {
			if ctx.Err() == nil {
				w.h.add(func(h *history) { h.errs = append(h.errs, fmt.Errorf("client %d: %w", w.id, err)) })
			}
			return
		}
		opCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		w.step(opCtx, nd)
		cancel()
	}
}

func (w *worker) step(ctx context.Context, nd *Node) {
	switch {
	case w.sess == 0:
		if s, err := nd.OpenSession(ctx, []byte(fmt.Sprintf("client-%d", w.id))); err == nil {
			w.sess = s
		}
		return
	case w.mustClose:
		if err := nd.CloseSession(ctx, w.sess); err == nil {
			w.sess, w.mustClose = 0, false
		}
		return
	}
	name := w.names[w.r.IntN(len(w.names))]
	w.req++
	call := time.Now()
	ev, err := nd.Do(ctx, Command{Op: OpAcquire, Session: w.sess, Req: w.req, Name: []byte(name), Wait: -1})
	if errors.Is(err, ErrNotLeader) {
		return
	}
	if err != nil || ev.Kind != engine.Granted {
		w.mustClose = true
		w.h.add(func(h *history) {
			h.ops = append(h.ops, opRec{client: w.id, name: name, acquire: true, call: call, ret: time.Now()})
			if err == nil {
				h.errs = append(h.errs, fmt.Errorf("client %d: acquire answered %v", w.id, ev))
			}
		})
		return
	}
	start := time.Now()
	li := slices.Index(w.c.nodes, nd)
	time.Sleep(time.Duration(w.r.IntN(200)) * time.Microsecond) // the critical section
	end := time.Now()
	w.h.add(func(h *history) {
		h.holds = append(h.holds, holdRec{name: name, client: w.id, token: ev.Token, node: li, call: call, start: start, end: end})
		h.ops = append(h.ops, opRec{client: w.id, name: name, acquire: true, token: ev.Token, ok: true, call: call, ret: start})
	})
	w.release(ctx, name, ev.Token, end)
}

// release releases through the current leader, retrying across a failover: a release that
// was already applied fails the retry with ErrNotHeld, which changes nothing.
func (w *worker) release(ctx context.Context, name string, token uint64, call time.Time) {
	for range 20 {
		_, nd, err := w.node(ctx)
		if err != nil {
			break
		}
		w.req++
		ev, err := nd.Do(ctx, Command{Op: OpRelease, Session: w.sess, Req: w.req, Name: []byte(name), Token: token})
		if err == nil {
			w.h.add(func(h *history) {
				h.ops = append(h.ops, opRec{client: w.id, name: name, token: token, ok: true, call: call, ret: time.Now()})
				if ev.Kind != engine.Done && !errors.Is(ev.Err, engine.ErrNotHeld) {
					h.errs = append(h.errs, fmt.Errorf("client %d: release answered %v", w.id, ev))
				}
			})
			return
		}
	}
	w.mustClose = true // closing the session releases it
	w.h.add(func(h *history) {
		h.ops = append(h.ops, opRec{client: w.id, name: name, token: token, call: call, ret: time.Now()})
	})
}

func TestFailoverHammer(t *testing.T) {
	c := newCluster(t, 3, nil)
	if _, err := c.leader(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := &history{}
	names := []string{"n0", "n1", "n2", "n3"}
	var wg sync.WaitGroup
	for i := range 16 {
		w := &worker{id: i, c: c, h: h, names: names, r: rand.New(rand.NewPCG(uint64(i), 10))}
		wg.Go(func() { w.run(ctx) })
	}
	time.Sleep(700 * time.Millisecond)
	first, err := c.leader(5 * time.Second) // a loaded box may have changed leaders already
	if err != nil {
		cancel()
		wg.Wait()
		t.Fatal(err)
	}
	killAt := time.Now()
	c.kill(first)
	second, err := c.leader(5 * time.Second)
	if err != nil {
		cancel()
		wg.Wait()
		t.Fatal(err)
	}
	time.Sleep(900 * time.Millisecond)
	cancel()
	wg.Wait()
	for _, err := range h.errs {
		t.Error(err)
	}
	checkHolds(t, h.holds, first, second, killAt)
	checkLinearizable(t, h.ops, names)
}

// checkHolds: holds of a name never overlap and their tokens rise in hold order; every token
// granted for an acquire sent after the kill is above every token the killed leader granted
// (the new leader's entries follow all the committed ones: raft's leader completeness); both
// leaders granted.
func checkHolds(t *testing.T, holds []holdRec, first, second int, killAt time.Time) {
	t.Helper()
	var before, after int
	var maxOld, minNew uint64 = 0, ^uint64(0)
	var firstNew time.Time
	for _, hd := range holds {
		switch hd.node {
		case first:
			before++
			maxOld = max(maxOld, hd.token)
		case second:
			if hd.call.Before(killAt) { // proposed earlier: may come from an old entry
				continue
			}
			after++
			minNew = min(minNew, hd.token)
			if firstNew.IsZero() || hd.start.Before(firstNew) {
				firstNew = hd.start
			}
		}
	}
	for _, err := range overlaps(holds) {
		t.Error(err)
	}
	if before == 0 || after == 0 {
		t.Fatalf("grants: %d by the first leader, %d by the second; want both > 0", before, after)
	}
	if minNew <= maxOld {
		t.Errorf("the new leader granted token %#x, not above the old leader's %#x", minNew, maxOld)
	}
	t.Logf("%d holds (%d by n%d, %d by n%d after it was killed); kill to first grant by the new leader: %v (in-process, loaded box)",
		len(holds), before, first, after, second, firstNew.Sub(killAt).Round(time.Millisecond))
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
				errs = append(errs, fmt.Errorf("%s: hold of client %d (token %#x, %v..%v) overlaps client %d's (token %#x, from %v)",
					name, a.client, a.token, a.start, a.end, b.client, b.token, b.start))
			} else if b.token <= a.token {
				errs = append(errs, fmt.Errorf("%s: token %#x after %#x", name, b.token, a.token))
			}
		}
	}
	return errs
}

// lockSpec is the sequential specification's state of one name: its holder (-1: free) and
// the last token granted.
type lockSpec struct {
	holder int
	last   uint64
}

// lockModel is a mutex with fencing tokens, one partition per name. An op whose outcome is
// unknown is checked leniently: an acquire as a no-op, a release as done; so the check can
// miss a fault hidden by a failover, never report a false one.
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
		var out [][]porcupine.Operation
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
			return st.holder == -1 && op.token > st.last, lockSpec{holder: op.client, last: op.token}
		case st.holder == op.client && st.last == op.token:
			return true, lockSpec{holder: -1, last: st.last}
		}
		return !op.ok, st
	},
	DescribeOperation: func(input, _ any) string {
		op := input.(opRec)
		return fmt.Sprintf("client %d %s %s %#x ok=%v", op.client, map[bool]string{true: "acquire", false: "release"}[op.acquire], op.name, op.token, op.ok)
	},
}

func checkLinearizable(t *testing.T, ops []opRec, names []string) {
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
		hist[i] = porcupine.Operation{ClientId: op.client, Input: op, Call: int64(op.call.Sub(base)), Return: int64(op.ret.Sub(base))}
	}
	switch res := porcupine.CheckOperationsTimeout(lockModel, hist, 10*time.Second); res {
	case porcupine.Ok:
		t.Logf("porcupine: %d operations on %d names linearizable", len(ops), len(names))
	default:
		t.Errorf("porcupine: history of %d operations is %v (Illegal: not linearizable; Unknown: the check timed out)", len(ops), res)
	}
}

// TestCheckersCatch makes sure the two history checks fail on the faults they are for.
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
	// Two clients granted the name in turn without a release between: not linearizable.
	ops := []porcupine.Operation{
		{ClientId: 0, Input: opRec{client: 0, name: "a", acquire: true, token: 1, ok: true}, Call: 0, Return: 1},
		{ClientId: 1, Input: opRec{client: 1, name: "a", acquire: true, token: 2, ok: true}, Call: 2, Return: 3},
		{ClientId: 0, Input: opRec{client: 0, name: "a", token: 1, ok: true}, Call: 4, Return: 5},
	}
	if res := porcupine.CheckOperationsTimeout(lockModel, ops, 5*time.Second); res != porcupine.Illegal {
		t.Fatalf("double grant checked as %v, want Illegal", res)
	}
	// The release (2..3) before the second grant (4..6): linearizable.
	ops[2].Call, ops[2].Return = 2, 3
	ops[1].Call, ops[1].Return = 4, 6
	if res := porcupine.CheckOperationsTimeout(lockModel, ops, 5*time.Second); res != porcupine.Ok {
		t.Fatalf("grant after release checked as %v, want Ok", res)
	}
}
