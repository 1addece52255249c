package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// grant is one recorded hold: from Lock's return to just before Unlock was called. Both ends
// are client-side, inside the server's own hold, so the holds of a correct lock never overlap.
type grant struct {
	at, released time.Time // released is zero while held (or when Unlock was never reached)
	token        uint64
	client       int  // which contending client
	unlockFailed bool // its Unlock returned an error: the server may still count it held
}

// grantRecorder collects the grants of a trial's clients; safe for concurrent use.
type grantRecorder struct {
	mu     sync.Mutex
	grants []grant
	news   chan struct{} // closed and replaced at every grant
}

func newGrantRecorder() *grantRecorder { return &grantRecorder{news: make(chan struct{})} }

// granted records client's grant and returns its index for released.
func (r *grantRecorder) granted(client int, at time.Time, token uint64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.grants = append(r.grants, grant{at: at, token: token, client: client})
	close(r.news)
	r.news = make(chan struct{})
	return len(r.grants) - 1
}

func (r *grantRecorder) released(i int, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.grants[i].released = at
}

func (r *grantRecorder) unlockFailed(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.grants[i].unlockFailed = true
}

func (r *grantRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.grants)
}

// grantAfter waits up to timeout for a grant made after t and returns when it was made.
func (r *grantRecorder) grantAfter(ctx context.Context, t time.Time, timeout time.Duration) (time.Time, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for _, g := range r.grants {
			if g.at.After(t) {
				r.mu.Unlock()
				return g.at, nil
			}
		}
		news := r.news
		r.mu.Unlock()
		select {
		case <-news:
		case <-deadline.C:
			return time.Time{}, fmt.Errorf("%w within %v", ErrNoGrantAfterKill, timeout)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// check reports overlapping holds and tokens that did not rise, in grant order.
func (r *grantRecorder) check() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return checkGrants(r.grants)
}

func checkGrants(grants []grant) error {
	gs := slices.Clone(grants)
	slices.SortStableFunc(gs, func(a, b grant) int { return a.at.Compare(b.at) })
	var errs []error
	for i := 1; i < len(gs) && len(errs) < 5; i++ {
		prev, g := gs[i-1], gs[i]
		if prev.released.IsZero() || g.at.Before(prev.released) {
			errs = append(errs, fmt.Errorf("%w: grant %d (token %d) came while grant %d (token %d) was held",
				ErrFailoverUnsafe, i, g.token, i-1, prev.token))
		}
		// A client whose Unlock failed may still hold: its next Lock can take up the same hold
		// again (etcd reuses the session's key), with the same token.
		sameHold := g.token == prev.token && g.client == prev.client && prev.unlockFailed
		if g.token <= prev.token && !sameHold {
			errs = append(errs, fmt.Errorf("%w: token %d after %d", ErrFailoverUnsafe, g.token, prev.token))
		}
	}
	return errors.Join(errs...)
}

// contenderStats is what one contending client went through.
type contenderStats struct {
	errors, reconnects int
	firstErr           error // the first retried error, with when it came after the start
	err                error // a failure that ended the client (not a retried error)
}

// note keeps the first error, to say what the clients went through.
func (s *contenderStats) note(err error) {
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// Bounds of a contending client: its loop ends with its ctx, and in any case after
// maxContendCycles; it reconnects after reconnectAfter errors in a row.
const (
	maxContendCycles = 1_000_000
	reconnectAfter   = 3
	retryPause       = 20 * time.Millisecond
)

// contend takes and releases failoverName in a loop until ctx ends, holding each grant for
// hold, recording every grant; each Lock attempt and Unlock is bounded by opTimeout, as a
// careful user bounds them, so a request lost with the leader is retried rather than awaited. Errors are counted and retried after a short pause; after
// reconnectAfter in a row the client is closed and connected again (a new session).
func contend(ctx context.Context, id int, b Backend, env Env, rec *grantRecorder, hold, opTimeout time.Duration) contenderStats {
	var s contenderStats
	var c Client
	var l Locker
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	streak := 0
	for cycle := 0; cycle < maxContendCycles && ctx.Err() == nil; cycle++ {
		if c == nil || streak >= reconnectAfter {
			if c != nil {
				_ = c.Close()
				c = nil
				s.reconnects++
			}
			var err error
			if c, l, err = connectLocker(ctx, b, env, opTimeout); err != nil {
				c = nil
				s.note(err)
				s.errors++
				pause(ctx, retryPause)
				continue
			}
			streak = 0
		}
		lctx, cancel := context.WithTimeout(ctx, opTimeout)
		tok, err := l.Lock(lctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.note(err)
				s.errors++
				streak++
				pause(ctx, retryPause)
			}
			continue
		}
		i := rec.granted(id, time.Now(), tok)
		time.Sleep(hold) // held through a cancel too: the release below must be recorded
		rec.released(i, time.Now())
		uctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err = l.Unlock(uctx)
		cancel()
		if err != nil {
			rec.unlockFailed(i)
			s.note(err)
			s.errors++
			streak++
		} else {
			streak = 0
		}
	}
	return s
}

func connectLocker(ctx context.Context, b Backend, env Env, timeout time.Duration) (Client, Locker, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := b.Connect(cctx, env)
	if err != nil {
		return nil, nil, err
	}
	l, err := c.Locker(failoverName)
	if err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	return c, l, nil
}

// pause sleeps d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
