package wire

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.hex and the generated blocks of docs/protocol.md")

const docPath = "../docs/protocol.md"

// docExamples are the frames shown byte by byte in docs/protocol.md; their encodings are
// pinned in testdata/<name>.hex.
var docExamples = []struct {
	name  string
	frame Frame
}{
	{"hello", Frame{Type: Hello, Req: 1, Version: Version, Auth: []byte("s3cret"), ClientName: []byte("deploy host=web-1 pid=42")}},
	{"welcome", Frame{Type: Welcome, Req: 1, Version: Version, Session: 42, Heartbeat: 1e9, Timeout: 5e9}},
	{"acquire", Frame{Type: Acquire, Req: 7, Name: []byte("jobs/42"), Wait: -1, TTL: 30e9}},
	{"granted", Frame{Type: Granted, Req: 7, Token: 1001}},
	{"release", Frame{Type: Release, Req: 8, Name: []byte("jobs/42"), Token: 1001}},
	{"ok", Frame{Type: OK, Req: 8}},
	{"cancel", Frame{Type: Cancel, Req: 9, Target: 7}},
	{"renew", Frame{Type: Renew, Req: 10, Name: []byte("jobs/42"), Token: 1001, TTL: 30e9}},
	{"lost", Frame{Type: Lost, Req: 0, Target: 7, Name: []byte("jobs/42"), Token: 1001, Code: CodeLeaseExpired}},
	{"status", Frame{Type: Status, Req: 11, Names: [][]byte{[]byte("jobs/42")}}},
	{"status_reply", Frame{Type: StatusReply, Req: 11, Locks: []LockInfo{
		{Name: []byte("jobs/42"), Holder: 42, Token: 1001, Waiters: 2, OldestWait: 1500000, LeaseLeft: 29e9},
	}}},
	{"sessions", Frame{Type: Sessions, Req: 13, IDs: []uint64{42}}},
	{"sessions_reply", Frame{Type: SessionsReply, Req: 13, Sessions: []SessionInfo{
		{Session: 42, Client: []byte("deploy host=web-1 pid=4242"), Remote: []byte("10.0.0.7:51234"), Locks: 2},
	}}},
	{"ping", Frame{Type: Ping, Req: 12}},
	{"pong", Frame{Type: Pong, Req: 12}},
	{"error_request", Frame{Type: Error, Req: 7, Code: CodeTimeout, Msg: []byte("timeout")}},
	{"error_conn", Frame{Type: Error, Req: 0, Code: CodeShutdown, Msg: []byte("bye")}},
	{"op_semaphore_acquire", Frame{Type: Op, Req: 20, Prim: PrimSemaphore, Action: ActAcquire, N: 2, Param: 4,
		Wait: 5e9, Name: []byte("gpus")}},
	{"op_rlock_acquire", Frame{Type: Op, Req: 21, Prim: PrimRLock, Action: ActAcquire, Flags: FlagDetect, Owner: 7,
		Wait: -1, Name: []byte("db")}},
	{"op_condition_wait", Frame{Type: Op, Req: 22, Prim: PrimCondition, Action: ActAcquire, Token: 1001, Wait: 1e9,
		Name: []byte("queue/ready"), Lock: []byte("queue")}},
	{"op_event_set", Frame{Type: Op, Req: 23, Prim: PrimEvent, Action: ActSet, Name: []byte("go")}},
	{"acquired_barrier", Frame{Type: Acquired, Req: 24, Value: 2}},
	{"error_deadlock", Frame{Type: Error, Req: 21, Code: CodeDeadlock,
		Msg: []byte(FormatCycle([]Hop{{Session: 42, Owner: 7, Name: []byte("db")}, {Session: 43, Owner: 1, Name: []byte("cache")}}))}},
}

// codeDocNames are the codes' names in docs/protocol.md: the Go constant without "Code", in
// upper snake case, as other languages would spell them.
var codeDocNames = map[Code]string{
	CodeBadFrame: "BAD_FRAME", CodeFrameTooLarge: "FRAME_TOO_LARGE", CodeVersion: "VERSION",
	CodeAuth: "AUTH", CodeNotHeld: "NOT_HELD", CodeTimeout: "TIMEOUT", CodeQueueFull: "QUEUE_FULL",
	CodeCancelled: "CANCELLED", CodeTooManyRequests: "TOO_MANY_REQUESTS", CodeNameLength: "NAME_LENGTH",
	CodeShutdown: "SHUTDOWN", CodeTooManyConns: "TOO_MANY_CONNS", CodeDuplicate: "DUPLICATE",
	CodeLeaseExpired: "LEASE_EXPIRED", CodeSlowConsumer: "SLOW_CONSUMER", CodeInternal: "INTERNAL",
	CodeTooManyHolds: "TOO_MANY_HOLDS", CodeWrongKind: "WRONG_KIND", CodeNotOwner: "NOT_OWNER",
	CodeOverRelease: "OVER_RELEASE", CodeBroken: "BROKEN", CodeDeadlock: "DEADLOCK", CodeInvalid: "INVALID",
	CodeNoSession: "NO_SESSION", CodeUnavailable: "UNAVAILABLE",
}

// codeMeanings is the error-code table of docs/protocol.md; TestProtocolDoc requires a row for
// every code, and the "closes" column comes from Code.ClosesConn.
var codeMeanings = map[Code]string{
	CodeBadFrame:        "malformed frame, unknown type, bad length (req 0)",
	CodeFrameTooLarge:   "length field over MaxFrame (req 0)",
	CodeVersion:         "HELLO version not supported; msg lists the supported one (req 0)",
	CodeAuth:            "wrong or missing auth token, or a request before HELLO (req 0)",
	CodeNotHeld:         "RELEASE/RENEW of a lock not held under that token",
	CodeTimeout:         "ACQUIRE wait ran out",
	CodeQueueFull:       "too many waiters already queued on that name",
	CodeCancelled:       "ACQUIRE was cancelled by a CANCEL",
	CodeTooManyRequests: "more outstanding requests than the server allows",
	CodeNameLength:      "empty name, or longer than MaxName",
	CodeShutdown:        "server is shutting down (req 0)",
	CodeTooManyConns:    "server's connection limit reached (req 0, right after connect)",
	CodeDuplicate:       "ACQUIRE whose req equals that of an ACQUIRE still waiting on this connection",
	CodeLeaseExpired:    "only in LOST: the lease ran out before a RENEW",
	CodeSlowConsumer:    "client reads too slowly; its outbound queue overflowed (req 0)",
	CodeInternal:        "server bug; the request failed",
	CodeTooManyHolds:    "ACQUIRE while the session holds plus awaits as many locks as the server allows (MaxHolds)",
	CodeWrongKind:       "the name is live as another kind, or a Semaphore/Barrier/Condition with another value/parties/lock",
	CodeNotOwner:        "RLock released by a non-owner or when not held; Condition wait/notify without holding its lock",
	CodeOverRelease:     "BoundedSemaphore released past what is held",
	CodeBroken:          "Barrier wait on (or while becoming) a broken barrier",
	CodeDeadlock:        "ACQUIRE with DETECT would close a wait-for cycle; msg names it (section 10.6)",
	CodeInvalid:         "OP argument out of range: unknown kind/action, an action the kind lacks, 0 permits or parties",
	CodeNoSession:       "replicated mode: RESUME of a closed or unknown session, or with a wrong secret (req 0)",
	CodeUnavailable:     "replicated mode: leadership lost or no quorum; outcomes of requests in flight are unknown (req 0)",
}

func codeTable() string {
	var b strings.Builder
	b.WriteString("| code | name | closes the connection | meaning | Go `Code.String` |\n|---|---|---|---|---|\n")
	for c := CodeBadFrame; c <= LastCode; c++ {
		closes := "no"
		if c.ClosesConn() {
			closes = "**yes**"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", c, codeDocNames[c], closes, codeMeanings[c], c)
	}
	return b.String()
}

func typeTable() string {
	var b strings.Builder
	b.WriteString("| type | name | direction | body size |\n|---|---|---|---|\n")
	dirs := map[Type]string{Hello: "C→S", Welcome: "S→C", Acquire: "C→S", Granted: "S→C", Release: "C→S",
		OK: "S→C", Cancel: "C→S", Renew: "C→S", Lost: "S→C push", Status: "C→S", StatusReply: "S→C",
		Ping: "either", Pong: "either", Error: "S→C", Op: "C→S", Acquired: "S→C",
		Sessions: "C→S", SessionsReply: "S→C"}
	for typ := Hello; typ <= LastType; typ++ {
		size, variable := 0, false
		for _, f := range bodyLayouts[typ] {
			switch f.kind {
			case kBytes:
				variable = true
			case kCount:
				size += 2
				variable = true
			default:
				size += kindSizes[f.kind]
			}
		}
		s := fmt.Sprint(size)
		if variable {
			s += " + variable"
		}
		fmt.Fprintf(&b, "| 0x%02X | %v | %s | %s |\n", uint8(typ), typ, dirs[typ], s)
	}
	return b.String()
}

// generated computes the content of one generated block of the document.
func generated(t *testing.T, kind, arg string) (string, bool) {
	switch kind {
	case "layout":
		for typ := Hello; typ <= LastType; typ++ {
			if typ.String() == arg {
				return layoutTable(typ), true
			}
		}
	case "example":
		for _, ex := range docExamples {
			if ex.name == arg {
				return "```\n" + annotate(t, Append(nil, &ex.frame)) + "```\n", true
			}
		}
	case "header":
		var b strings.Builder
		b.WriteString("| offset | size | field | type | meaning |\n|---|---|---|---|---|\n")
		off := 0
		for _, f := range headerLayout {
			fmt.Fprintf(&b, "| %d | %d | %s | %s | %s |\n", off, kindSizes[f.kind], f.name, kindNames[f.kind], f.meaning)
			off += kindSizes[f.kind]
		}
		fmt.Fprintf(&b, "| %d | length − 9 | body | | by type (section 7) |\n", off)
		return b.String(), true
	case "codes":
		return codeTable(), true
	case "types":
		return typeTable(), true
	}
	return "", false
}

var blockRE = regexp.MustCompile(`(?s)(<!-- BEGIN GENERATED (\w+) ?(\w*) -->\n)(.*?)(<!-- END GENERATED -->)`)

// TestProtocolDoc checks every generated block of docs/protocol.md (layout tables, annotated
// hex dumps, the type and code tables) against the code; -update rewrites them.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("the protocol document is part of this package's contract: %v", err)
	}
	seen := map[string]bool{}
	out := blockRE.ReplaceAllStringFunc(string(doc), func(block string) string {
		m := blockRE.FindStringSubmatch(block)
		kind, arg, body := m[2], m[3], m[4]
		seen[kind+" "+arg] = true
		want, ok := generated(t, kind, arg)
		if !ok {
			t.Errorf("unknown generated block %q %q", kind, arg)
			return block
		}
		if body != want && !*update {
			t.Errorf("docs/protocol.md block %s %s is stale (go test ./wire -run TestProtocolDoc -update):\n got\n%s\n want\n%s", kind, arg, body, want)
		}
		return m[1] + want + m[5]
	})
	for typ := Hello; typ <= LastType; typ++ {
		if !seen["layout "+typ.String()] {
			t.Errorf("docs/protocol.md has no layout block for %v", typ)
		}
	}
	for _, ex := range docExamples {
		if !seen["example "+ex.name] {
			t.Errorf("docs/protocol.md has no example block %q", ex.name)
		}
	}
	for _, k := range []string{"codes ", "types ", "header "} {
		if !seen[k] {
			t.Errorf("docs/protocol.md has no %q block", k)
		}
	}
	if *update && out != string(doc) {
		if err := os.WriteFile(docPath, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGoldenExamples pins each example's bytes in testdata/<name>.hex (hex, whitespace ignored)
// and decodes the pinned bytes back to the example frame, so an encoder change that breaks
// the published examples fails here even if the doc is regenerated.
func TestGoldenExamples(t *testing.T) {
	for _, ex := range docExamples {
		t.Run(ex.name, func(t *testing.T) {
			path := filepath.Join("testdata", ex.name+".hex")
			enc := Append(nil, &ex.frame)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(hex.EncodeToString(enc)+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			golden, err := hex.DecodeString(strings.Join(strings.Fields(string(text)), ""))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if hex.EncodeToString(enc) != hex.EncodeToString(golden) {
				t.Fatalf("encoding changed:\n got  %x\n want %x", enc, golden)
			}
			var f Frame
			n, err := Decode(golden, DefaultLimits(), &f)
			if err != nil || n != len(golden) {
				t.Fatalf("Decode(golden) = %d, %v", n, err)
			}
			if !reflect.DeepEqual(normalize(f), normalize(ex.frame)) {
				t.Fatalf("Decode(golden) = %+v, want %+v", f, ex.frame)
			}
		})
	}
}
