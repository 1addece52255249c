package client

// Replicated servers (docs/replication.md): a list of addresses, REDIRECT from a follower to
// the leader, and RESUME of a session on a new leader after a failover.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wwly/wwly/wire"
)

// Errors of replicated mode.
var (
	// ErrRedirect: the server is a follower; RedirectError names the leader. Dial follows it.
	ErrRedirect = errors.New("wwly: not the leader")
	// ErrNoSession: RESUME of a session the cluster closed (not resumed within its grace
	// period), or with a wrong secret. Its holds are gone.
	ErrNoSession = errors.New("wwly: no such session")
	// ErrUnavailable: the leader lost its leadership or quorum with requests in flight: their
	// outcomes are unknown. Resume the session on the new leader and look.
	ErrUnavailable = errors.New("wwly: cluster unavailable")
)

// RedirectError is a follower's answer: Leader is the leader's client address ("" = the
// follower knows no leader yet).
type RedirectError struct{ Leader string }

func (e *RedirectError) Error() string {
	if e.Leader == "" {
		return "wwly: not the leader, and no leader known"
	}
	return "wwly: not the leader; leader at " + e.Leader
}

func (e *RedirectError) Unwrap() []error { return []error{ErrRedirect, ErrClosed} }

// WithResume makes Dial take over an open session (from Session and Secret of an earlier
// Client) instead of opening a new one: after a failover, the holds and queue places of the
// session are still its own. Dial fails with ErrNoSession when the cluster closed it.
func WithResume(session uint64, secret []byte) Option {
	return func(o *options) { o.resume, o.secret = session, slices.Clone(secret) }
}

// Secret is the session's resume secret (nil from a single-node server): with Session, what
// WithResume needs.
func (c *Client) Secret() []byte { return slices.Clone(c.secret) }

// ReleaseToken releases name held under token by this session (after a RESUME, the holds of
// the session have no Mutex in this Client) and waits for the answer.
func (c *Client) ReleaseToken(ctx context.Context, name string, token uint64) error {
	if err := c.checkName("release", []byte(name)); err != nil {
		return err
	}
	r, err := c.roundTrip(ctx, func(b []byte, req uint64) []byte { return appendRelease(b, req, []byte(name), token) })
	if err != nil {
		return err
	}
	return r.err
}

// splitAddrs reads "a,b,c" (Dial's address, WWLY_ADDR) into a list without empty items.
func splitAddrs(addrs string) []string {
	var out []string
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// maxHops bounds the redirects one Dial follows (a leader changing under it sends it around).
const maxHops = 8

// dialCluster dials the first address that answers as leader: it follows REDIRECTs and, when an
// address is unreachable or knows no leader, tries the next one, round the list, until ctx ends
// or maxHops redirects plus two rounds of the list are used up.
func dialCluster(ctx context.Context, addrs []string, o *options) (*Client, error) {
	if len(addrs) == 0 {
		addrs = []string{DefaultAddr}
	}
	var errs []error
	next := 0
	tries := maxHops + 2*len(addrs)
	addr := addrs[0]
	for range tries {
		c, err := dialOne(ctx, addr, o)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		var re *RedirectError
		switch {
		case ctx.Err() != nil:
			return nil, errors.Join(errs...)
		case errors.As(err, &re) && re.Leader != "" && re.Leader != addr:
			addr = re.Leader
			continue
		case errors.As(err, &re), errors.Is(err, ErrUnreachable), errors.Is(err, ErrUnavailable), errors.Is(err, ErrShutdown):
			if len(addrs) == 1 && !errors.As(err, &re) {
				return nil, err // one server, as before: its error as it was
			}
			if errors.As(err, &re) || errors.Is(err, ErrUnavailable) {
				if err := sleepCtx(ctx, electionPause); err != nil {
					return nil, errors.Join(append(errs, err)...)
				}
			}
			next = (next + 1) % len(addrs)
			addr = addrs[next]
		default:
			return nil, err // auth, version, no session: another server would say the same
		}
	}
	return nil, fmt.Errorf("dial %s: no leader found: %w", strings.Join(addrs, ","), errors.Join(errs...))
}

// resumeHello is the first frame of a connection: HELLO, or RESUME when resuming.
func resumeHello(b []byte, req uint64, o *options) []byte {
	client := helloClient(o.clientName)
	if o.resume != 0 {
		return wire.AppendResume(b, req, o.auth, []byte(client), o.resume, o.secret)
	}
	return appendHello(b, req, o.auth, client)
}

// electionPause is how long Dial waits before the next address when a server knows no leader
// or lost it: about an election's length at test timeouts, a fraction of one at raft's defaults.
const electionPause = 100 * time.Millisecond

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
