package engine

import (
	"cmp"
	"slices"
)

// The Model's deadlock detection: the walk of deadlock.go over the Model's maps.

func (l *modelLock) boundHolder() (SessionID, uint64, bool) {
	switch {
	case l.kind == PrimMutex:
		return l.holder, l.holderOwner, true
	case l.kind == PrimRLock && len(l.holds) > 0:
		return l.holds[0].s, l.holds[0].owner, true
	case l.kind == PrimRWMutex && len(l.holds) > 0 && !l.holds[0].shared:
		return l.holds[0].s, l.holds[0].owner, true
	}
	return 0, 0, false
}

type modelWaitRef struct {
	name string
	s    SessionID
	req  uint64
	qseq uint64
}

// waitsOf lists the waits of owner o of session s, in the order they were queued.
func (m *Model) waitsOf(s SessionID, o uint64) []modelWaitRef {
	var out []modelWaitRef
	for name, l := range m.locks {
		for _, w := range l.waiters {
			if w.s == s && w.owner == o {
				out = append(out, modelWaitRef{name, w.s, w.req, w.qseq})
			}
		}
	}
	slices.SortFunc(out, func(a, b modelWaitRef) int { return cmp.Compare(a.qseq, b.qseq) })
	return out
}

// deadlock follows Engine.deadlock.
func (m *Model) deadlock(s SessionID, req, owner uint64, name string) bool {
	seen := map[[2]uint64]bool{}
	var path []string
	var reaches func(name string) bool
	reaches = func(name string) bool {
		hs, ho, ok := m.locks[name].boundHolder()
		if !ok {
			return false
		}
		path = append(path, name)
		if hs == s && ho == owner {
			return true
		}
		for _, w := range m.waitsOf(hs, ho) {
			if key := [2]uint64{uint64(w.s), w.req}; !seen[key] {
				seen[key] = true
				if reaches(w.name) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if !reaches(name) {
		return false
	}
	cycle := make([]Hop, len(path))
	for i, n := range path {
		cycle[i] = Hop{Session: s, Owner: owner, Name: []byte(n)}
		if i > 0 {
			cycle[i].Session, cycle[i].Owner, _ = m.locks[path[i-1]].boundHolder()
		}
	}
	m.emit(Failed, s, req, 0, []byte(name), ErrDeadlock)
	m.events[len(m.events)-1].Cycle = cycle
	return true
}
