package engine

import "fmt"

// timer is one deadline, embedded in the waiter (wait timeout) or lockState (lease) it belongs to,
// so arming never allocates. Exactly one of w and l is set, for life.
type timer struct {
	when int64 // copy of the heap entry's deadline, for Status
	idx  int   // index in the heap, -1 when not armed
	w    *waiter
	l    *lockState
}

func (t *timer) armed() bool { return t.idx >= 0 }

// timerEntry is a heap slot. The key is stored inline so that sifting compares without
// chasing a pointer per comparison (that cache miss dominated handoffs with 1024 waiters).
type timerEntry struct {
	when int64
	seq  uint64 // arming sequence; breaks ties between equal deadlines
	t    *timer
}

func (a *timerEntry) less(b *timerEntry) bool {
	return a.when < b.when || (a.when == b.when && a.seq < b.seq)
}

// timerHeap is a min-heap on (when, seq) with exact removal: each timer knows its index,
// so a cancelled or renewed deadline leaves no garbage behind (a lazy-deletion heap would
// keep one stale entry per renewal until its old deadline passed).
type timerHeap []timerEntry

// arm sets (or moves) t to deadline when with a fresh arming sequence.
func (e *Engine) arm(t *timer, when int64) {
	e.seq++
	t.when = when
	h := &e.timers
	if t.armed() {
		(*h)[t.idx].when, (*h)[t.idx].seq = when, e.seq
		h.fix(t.idx)
		return
	}
	t.idx = len(*h)
	*h = append(*h, timerEntry{when: when, seq: e.seq, t: t})
	h.up(t.idx)
}

func (h *timerHeap) pop() *timer {
	t := (*h)[0].t
	h.remove(t)
	return t
}

func (h *timerHeap) remove(t *timer) {
	if !t.armed() {
		return
	}
	s := *h
	i, last := t.idx, len(s)-1
	if i != last {
		s[i] = s[last]
		s[i].t.idx = i
	}
	s[last] = timerEntry{}
	*h = s[:last]
	t.idx = -1
	if i != last {
		h.fix(i)
	}
}

func (h *timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(&h[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts element i down and reports whether it moved.
func (h timerHeap) down(i int) bool {
	start, n := i, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].less(&h[c]) {
			c = r
		}
		if !h[c].less(&h[i]) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].t.idx = i
	h[j].t.idx = j
}

func (h timerHeap) check() error {
	for i := range h {
		t := h[i].t
		if t.idx != i || t.when != h[i].when {
			return fmt.Errorf("timer %d has idx %d, when %d/%d", i, t.idx, t.when, h[i].when)
		}
		if i > 0 && h[i].less(&h[(i-1)/2]) {
			return fmt.Errorf("heap order broken at %d", i)
		}
		if (t.w == nil) == (t.l == nil) {
			return fmt.Errorf("timer %d has no single owner", i)
		}
	}
	return nil
}
