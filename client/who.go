package client

// Who a client is: the HELLO client field, by the convention of docs/protocol.md section 7.1,
// is one string "NAME host=HOST pid=PID", and SESSIONS hands it back to anyone who asks who
// holds a lock.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// SessionInfo says who one session is, as reported by Sessions.
type SessionInfo struct {
	Session uint64
	Client  string // the HELLO client field as the server kept it (at most 256 bytes)
	Remote  string // the peer address the server sees
	Locks   int    // locks the session holds plus acquires it has waiting
	Who
}

// Who is a client field parsed by the "NAME host=HOST pid=PID" convention. Fields the string
// does not carry are zero: an old or foreign client's free text is all Name.
type Who struct {
	Name string
	Host string
	PID  int
}

// String formats w back into the convention, leaving out what is unknown.
func (w Who) String() string {
	s := w.Name
	if w.Host != "" {
		s = strings.TrimSpace(s + " host=" + w.Host)
	}
	if w.PID > 0 {
		s = strings.TrimSpace(s + " pid=" + strconv.Itoa(w.PID))
	}
	return s
}

// ParseWho reads a client field: trailing "host=" and "pid=" words are taken off the end, in
// either order; the rest is the name.
func ParseWho(s string) Who {
	var w Who
	for range 2 {
		i := strings.LastIndexByte(s, ' ')
		last := s[i+1:]
		switch {
		case strings.HasPrefix(last, "host=") && w.Host == "":
			w.Host = last[len("host="):]
		case strings.HasPrefix(last, "pid=") && w.PID == 0:
			pid, err := strconv.Atoi(last[len("pid="):])
			if err != nil || pid <= 0 {
				return Who{Name: s, Host: w.Host, PID: w.PID}
			}
			w.PID = pid
		default:
			w.Name = s
			return w
		}
		s = s[:max(i, 0)]
	}
	w.Name = s
	return w
}

// helloClient is the client field Dial sends: the caller's name (the program's when none is
// given) with this host and process appended, unless the name already carries them.
func helloClient(name string) string {
	if name == "" && len(os.Args) > 0 {
		name = filepath.Base(os.Args[0])
	}
	if w := ParseWho(name); w.Host != "" || w.PID != 0 {
		return name
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return Who{Name: name, Host: host, PID: os.Getpid()}.String()
}

// Sessions reports who the given sessions are (client name, host, pid and peer address), or
// every session (up to a server bound) when ids is empty. Ids that name no live session are left
// out. Use it with the Holder of a Status entry to see which program holds a lock. A server
// older than the SESSIONS frame closes the connection (ErrClosed).
func (c *Client) Sessions(ctx context.Context, ids ...uint64) ([]SessionInfo, error) {
	r, err := c.roundTrip(ctx, func(b []byte, req uint64) []byte { return appendSessions(b, req, ids) })
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	return r.who, nil
}
