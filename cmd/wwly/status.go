package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/client"
)

type statusOptions struct {
	conn     connFlags
	json     bool
	sessions bool // list sessions instead of locks
	cluster  bool // list the members of a replicated cluster (statuscluster.go)
	timeout  time.Duration
	names    []string
	out      io.Writer
}

func newStatusCmd() *cobra.Command {
	o := &statusOptions{out: os.Stdout}
	cmd := &cobra.Command{
		Use:   "status [flags] [NAME...]",
		Short: "Show who holds the named locks (all live locks by default)",
		Long: `Show the holder, fencing token, queue length, oldest wait and lease left of the named
locks, or of every live lock (up to a server bound) when no name is given. Locks that nobody
holds or waits for are not listed. The holder is its session id followed by the client it said
it was in HELLO: by convention "NAME host=HOST pid=PID" (wwly lock sends "wwly lock LOCKNAME").
A server too old to say (no SESSIONS frame) shows session ids only.

With --sessions, list every session instead (up to a server bound): its id, how many locks it
holds or waits for, the address the server sees and its client. --sessions takes no NAME.

Names are bytes. In the table, a name that is not printable UTF-8 (control characters such as
ESC or newline, invalid UTF-8), or that starts with a double quote, is shown Go-quoted
("a\x1b[31mb"), so no name can forge rows or colours on the terminal. In --json output "name"
is a JSON string; when the name is not valid UTF-8 its invalid bytes read as U+FFFD there, and
"name_b64" carries the exact bytes (standard base64), present only then.

Exit status (see 'wwly help exit-codes'): 0 ok, 64 usage (also an empty or over-long NAME),
69 server unreachable or silent, 77 auth token refused.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range args {
				if err := checkLockName(n); err != nil {
					return usageError(cmd, err)
				}
			}
			if o.sessions && len(args) > 0 {
				return usageError(cmd, fmt.Errorf("--sessions lists every session; it takes no NAME"))
			}
			o.names = args
			if o.cluster {
				return runStatusCluster(cmd.Context(), o)
			}
			return runStatus(cmd.Context(), o)
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	o.conn.register(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON instead of a table")
	cmd.Flags().BoolVar(&o.sessions, "sessions", false, "list every session (client, host, pid, remote address)")
	cmd.Flags().BoolVar(&o.cluster, "cluster", false, "replicated servers: every member's id, state, term, commit and applied index, and the leader")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// statusJSON is one lock in --json output; durations are in nanoseconds.
type statusJSON struct {
	Name string `json:"name"`
	// NameB64 is the name's exact bytes, only when they are not valid UTF-8 (Name then has
	// U+FFFD in place of the invalid bytes).
	NameB64      string `json:"name_b64,omitempty"`
	Holder       uint64 `json:"holder"`
	Token        uint64 `json:"token"`
	Waiters      int    `json:"waiters"`
	OldestWaitNS int64  `json:"oldest_wait_ns"`
	LeaseLeftNS  int64  `json:"lease_left_ns"`
	// HolderInfo says who the holder is; absent when free or when the server cannot say.
	HolderInfo *whoJSON `json:"holder_info,omitempty"`
}

func runStatus(ctx context.Context, o *statusOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	c, addr, err := dialExit(ctx, &o.conn, "wwly status")
	if err != nil {
		return err
	}
	defer c.Close()
	if o.sessions {
		all, err := c.Sessions(ctx)
		if err != nil {
			return statusFailure(c, addr, err)
		}
		return printSessions(o.out, all, o.json)
	}
	locks, err := c.Status(ctx, o.names...)
	if err != nil {
		return statusFailure(c, addr, err)
	}
	// Who the holders are is extra: without it the table still says what it always did.
	who, _ := holders(ctx, c, locks)
	if o.json {
		out := make([]statusJSON, len(locks))
		for i, l := range locks {
			out[i] = statusJSON{
				Name: l.Name, Holder: l.Holder, Token: l.Token, Waiters: l.Waiters,
				OldestWaitNS: int64(l.OldestWait), LeaseLeftNS: int64(l.LeaseLeft),
			}
			if s, ok := who[l.Holder]; ok && l.Holder != 0 {
				out[i].HolderInfo = toWhoJSON(s)
			}
			if !utf8.ValidString(l.Name) {
				out[i].NameB64 = base64.StdEncoding.EncodeToString([]byte(l.Name))
			}
		}
		enc := json.NewEncoder(o.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(o.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTOKEN\tWAITERS\tOLDEST WAIT\tLEASE LEFT\tHOLDER")
	for _, l := range locks {
		lease := "-"
		if l.LeaseLeft > 0 {
			lease = l.LeaseLeft.Round(time.Millisecond).String()
		}
		// HOLDER comes last: a client string has spaces and may be long.
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", displayName(l.Name), l.Token, l.Waiters,
			l.OldestWait.Round(time.Microsecond), lease, holderText(l.Holder, who))
	}
	return tw.Flush()
}

// statusFailure turns a failed request into an exit status, preferring the connection's error.
func statusFailure(c *client.Client, addr string, err error) error {
	if cerr := c.Err(); cerr != nil {
		return connFailure(addr, cerr)
	}
	return connFailure(addr, err)
}

// displayName is a lock name safe to print on a terminal: as is when it is valid UTF-8 made of
// printable characters (ASCII space included, tab not: it would shift table columns), Go-quoted
// otherwise. A name starting with '"' is quoted too, so a quoted form is never ambiguous.
func displayName(name string) string {
	if name == "" || strings.HasPrefix(name, `"`) || !utf8.ValidString(name) {
		return strconv.Quote(name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return strconv.Quote(name)
		}
	}
	return name
}
