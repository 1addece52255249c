package main

// Who holds: `wwly status` names each holder by its client (name, host, pid from HELLO) next to
// its session id, and `wwly status --sessions` lists every session.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/wwly/wwly/client"
)

// maxIDs is how many session ids one SESSIONS request carries: the server's default MaxNames.
const maxIDs = 1024

// whoJSON is one session in --json output: its client field, parsed by the convention of
// docs/protocol.md 7.1, and the peer address the server saw.
type whoJSON struct {
	Session uint64 `json:"session"`
	Client  string `json:"client"`
	Name    string `json:"client_name,omitempty"`
	Host    string `json:"host,omitempty"`
	PID     int    `json:"pid,omitempty"`
	Remote  string `json:"remote"`
	Locks   int    `json:"locks"` // held plus waiting
}

func toWhoJSON(s client.SessionInfo) *whoJSON {
	return &whoJSON{Session: s.Session, Client: s.Client, Name: s.Name, Host: s.Host, PID: s.PID, Remote: s.Remote, Locks: s.Locks}
}

// holders asks who the holders of locks are, by session id. A server that predates SESSIONS
// closes the connection instead of answering: the caller then shows session ids only.
func holders(ctx context.Context, c *client.Client, locks []client.LockInfo) (map[uint64]client.SessionInfo, error) {
	seen := make(map[uint64]bool)
	var ids []uint64
	for _, l := range locks {
		if l.Holder != 0 && !seen[l.Holder] {
			seen[l.Holder] = true
			ids = append(ids, l.Holder)
		}
	}
	who := make(map[uint64]client.SessionInfo, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), maxIDs)
		got, err := c.Sessions(ctx, ids[:n]...)
		if err != nil {
			return who, err
		}
		for _, s := range got {
			who[s.Session] = s
		}
		ids = ids[n:]
	}
	return who, nil
}

// holderText is the HOLDER cell: the session id, then who it is when known.
func holderText(id uint64, who map[uint64]client.SessionInfo) string {
	if id == 0 {
		return "-"
	}
	s, ok := who[id]
	if !ok || s.Client == "" {
		return fmt.Sprint(id)
	}
	return fmt.Sprintf("%d %s", id, displayName(s.Client))
}

// printSessions writes every session as a table or JSON; LOCKS counts holds plus waiting acquires.
func printSessions(out io.Writer, sessions []client.SessionInfo, asJSON bool) error {
	if asJSON {
		rows := make([]*whoJSON, len(sessions))
		for i, s := range sessions {
			rows[i] = toWhoJSON(s)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tLOCKS\tREMOTE\tCLIENT")
	for _, s := range sessions {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\n", s.Session, s.Locks, displayName(s.Remote), displayName(s.Client))
	}
	return tw.Flush()
}
