package wire

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file is a second, independent description of the frame layouts: a table of fields per
// type. It generates the byte-offset tables and annotated hex dumps in docs/protocol.md, and
// TestLayoutMatchesEncoder checks it against the encoder, so the document cannot drift from
// the code.

type fieldKind int

const (
	kU8     fieldKind = iota
	kU16              // unsigned
	kU32              // unsigned
	kU64              // unsigned
	kI64              // signed, two's complement
	kCode             // u16 error code
	kLen              // u16 byte length of the next field
	kBytes            // the bytes measured by the previous kLen
	kCount            // u16 number of entries, each laid out as field.entry
	kPrim             // u8 kind of a name (section 10)
	kAction           // u8 action of an OP
	kFlags            // u8 flag bits of an OP
)

var kindNames = map[fieldKind]string{
	kU8: "u8", kU16: "u16", kU32: "u32", kU64: "u64", kI64: "i64",
	kCode: "u16", kLen: "u16", kBytes: "bytes", kCount: "u16", kPrim: "u8", kAction: "u8", kFlags: "u8",
}

var kindSizes = map[fieldKind]int{kU8: 1, kU16: 2, kU32: 4, kU64: 8, kI64: 8, kCode: 2, kLen: 2, kCount: 2,
	kPrim: 1, kAction: 1, kFlags: 1}

type field struct {
	name    string
	kind    fieldKind
	meaning string
	entry   []field // kCount only
}

var headerLayout = []field{
	{"length", kU32, "bytes after this field: 9 + body size", nil},
	{"type", kU8, "frame type", nil},
	{"req", kU64, "request id; replies echo it; pushes carry 0", nil},
}

var nameFields = []field{
	{"name_len", kLen, "1..MaxName (256)", nil},
	{"name", kBytes, "lock name, opaque bytes", nil},
}

func withName(fs ...field) []field { return append(fs, nameFields...) }

var bodyLayouts = map[Type][]field{
	Hello: {
		{"version", kU16, "protocol version the client speaks (2)", nil},
		{"auth_len", kLen, "0 when the server has no auth token", nil},
		{"auth", kBytes, "auth token", nil},
		{"client_len", kLen, "", nil},
		{"client_name", kBytes, "who the client is: `NAME host=HOST pid=PID` by convention (section 7.1)", nil},
	},
	Welcome: {
		{"version", kU16, "protocol version the server speaks (2)", nil},
		{"session", kU64, "session id, > 0; STATUS_REPLY holders name sessions", nil},
		{"heartbeat", kI64, "ns; send a PING at least this often", nil},
		{"timeout", kI64, "ns; the server drops a connection silent this long", nil},
	},
	Acquire: withName(
		field{"wait", kI64, "ns; 0 = try once, < 0 = wait forever", nil},
		field{"ttl", kI64, "ns lease; ≤ 0 = none: held until RELEASE or disconnect", nil},
	),
	Granted: {
		{"token", kU64, "fencing token; rises with every grant", nil},
	},
	Release: withName(
		field{"token", kU64, "the token of the grant being released", nil},
	),
	OK:     {},
	Cancel: {{"target", kU64, "req id of the ACQUIRE to cancel", nil}},
	Renew: withName(
		field{"token", kU64, "the token of the grant being renewed", nil},
		field{"ttl", kI64, "ns; the lease now ends ttl from now; ≤ 0 removes the lease", nil},
	),
	Lost: withName(
		field{"target", kU64, "req id of the ACQUIRE that was granted", nil},
		field{"token", kU64, "the token that is no longer valid", nil},
		field{"code", kCode, "why (14 = lease expired)", nil},
	),
	Status: {
		{"count", kCount, "0..MaxNames (1024); 0 = every live lock", nameFields},
	},
	StatusReply: {
		{"count", kCount, "number of entries", []field{
			{"holder", kU64, "session id of the holder; 0 = free", nil},
			{"token", kU64, "token of the current grant", nil},
			{"waiters", kU32, "queued ACQUIREs", nil},
			{"oldest_wait", kI64, "ns the oldest waiter has waited; 0 = no waiters", nil},
			{"lease_left", kI64, "ns of lease left; 0 = no lease; may be < 0 when expiry is due", nil},
			{"kind", kPrim, "the name's kind (section 10.1)", nil},
			{"holders", kU32, "holds: 1 for a Mutex or RLock, readers of an RWMutex, grants of a Semaphore", nil},
			{"value", kI64, "Semaphore: permits free now; Event: 1 when set; Barrier: 1 when broken; else 0", nil},
			nameFields[0], nameFields[1],
		}},
	},
	Ping: {},
	Pong: {},
	Op: {
		{"prim", kPrim, "kind of the name (section 10.1)", nil},
		{"action", kAction, "what to do (section 10.2)", nil},
		{"flags", kFlags, "bit 0 DETECT, bit 1 SHARED; other bits 0", nil},
		{"n", kU32, "Semaphore: permits (≥ 1); NOTIFY: waiters to wake (0 = 1); else 0", nil},
		{"param", kU32, "Semaphore: initial value; Barrier: parties (≥ 1); else 0", nil},
		{"owner", kU64, "owner within the session (RLock; deadlock detection); e.g. a thread id", nil},
		{"token", kU64, "RELEASE of a Mutex/RWMutex, Condition ACQUIRE/NOTIFY over a Mutex: the grant's token", nil},
		{"wait", kI64, "ACQUIRE: ns; 0 = try once, < 0 = forever", nil},
		{"name_len", kLen, "1..MaxName (256)", nil},
		{"name", kBytes, "the name, opaque bytes", nil},
		{"lock_len", kLen, "Condition: 1..MaxName; else 0", nil},
		{"lock", kBytes, "Condition: the name of its Mutex or RLock", nil},
	},
	Acquired: {
		{"token", kU64, "fencing token of the grant; 0 for Event, Barrier", nil},
		{"value", kI64, "Barrier: arrival index, 0..parties−1; else 0", nil},
		{"code", kCode, "0; or 6 (TIMEOUT): a Condition wait timed out, the lock is held again", nil},
	},
	Sessions: {
		{"count", kCount, "0..MaxNames (1024); 0 = every session (up to what one reply holds)", []field{
			{"session", kU64, "a session id from WELCOME or a STATUS_REPLY holder", nil},
		}},
	},
	SessionsReply: {
		{"count", kCount, "number of entries; unknown ids are left out", []field{
			{"session", kU64, "session id", nil},
			{"locks", kU32, "locks the session holds plus acquires it has waiting", nil},
			{"client_len", kLen, "0..256: the server keeps at most 256 bytes of HELLO's client", nil},
			{"client", kBytes, "the session's HELLO client field (section 7.1)", nil},
			{"remote_len", kLen, "", nil},
			{"remote", kBytes, "peer address as the server sees it, e.g. 10.0.0.7:51234", nil},
		}},
	},
	Error: {{"code", kCode, "error code (see Error codes)", nil}, {"msg_len", kLen, "", nil}, {"msg", kBytes, "UTF-8 text for humans", nil}},
	Redirect: {
		{"addr_len", kLen, "0..255; 0 = no leader known (try another server)", nil},
		{"addr", kBytes, "the leader's client address, host:port", nil},
	},
	Resume: {
		{"version", kU16, "protocol version the client speaks (2)", nil},
		{"auth_len", kLen, "as in HELLO", nil},
		{"auth", kBytes, "auth token", nil},
		{"client_len", kLen, "", nil},
		{"client_name", kBytes, "as in HELLO", nil},
		{"session", kU64, "the session to take over (from WELCOME)", nil},
		{"secret_len", kLen, "1..64", nil},
		{"secret", kBytes, "the secret WELCOME gave with the session", nil},
	},
	Cluster: {
		{"auth_len", kLen, "as in HELLO", nil},
		{"auth", kBytes, "auth token", nil},
	},
	ClusterReply: {
		{"id_len", kLen, "0..255", nil},
		{"id", kBytes, "this member's raft id", nil},
		{"state", kU8, "1 follower, 2 candidate, 3 leader, 4 shutdown", nil},
		{"term", kU64, "raft term", nil},
		{"commit", kU64, "commit index", nil},
		{"applied", kU64, "last index applied to the engine on this member", nil},
		{"leader_len", kLen, "0 when no leader is known", nil},
		{"leader", kBytes, "the leader's raft id", nil},
		{"count", kCount, "configured members, at most 64", []field{
			{"id_len", kLen, "", nil},
			{"id", kBytes, "raft id", nil},
			{"raft_len", kLen, "", nil},
			{"raft", kBytes, "raft address", nil},
			{"client_len", kLen, "", nil},
			{"client", kBytes, "client address", nil},
		}},
	},
}

// layoutTable renders the byte-offset table of one type as Markdown. Offsets count from the
// first byte of the frame; after a variable-length field they are written as base+len.
func layoutTable(t Type) string {
	var b strings.Builder
	b.WriteString("| offset | size | field | type | meaning |\n|---|---|---|---|---|\n")
	row := func(off, size, name, kind, meaning string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", off, size, name, kind, meaning)
	}
	if len(bodyLayouts[t]) == 0 {
		row(strconv.Itoa(HeaderSize), "0", "(no body)", "", "length = 9")
	}
	var walk func(fs []field, prefix string, off int)
	walk = func(fs []field, prefix string, off int) {
		lastLen, vars := "", ""
		for _, f := range fs {
			pos := prefix + strconv.Itoa(off) + vars
			switch f.kind {
			case kBytes:
				row(pos, lastLen, f.name, "bytes", f.meaning)
				vars += "+" + lastLen
			case kCount:
				row(pos, "2", f.name, "u16", f.meaning)
				off += 2
				b.WriteString("| | | *then `count` entries, each:* | | |\n")
				walk(f.entry, "e+", 0)
				vars += "+entries"
			default:
				row(pos, strconv.Itoa(kindSizes[f.kind]), f.name, kindNames[f.kind], f.meaning)
				off += kindSizes[f.kind]
			}
			if f.kind == kLen {
				lastLen = f.name
			}
		}
	}
	walk(bodyLayouts[t], "", HeaderSize)
	return b.String()
}

// annotate renders an encoded frame as an annotated hex dump by walking the layout table.
// It fails the test if the layout does not consume exactly the frame's bytes.
func annotate(t testing.TB, enc []byte) string {
	t.Helper()
	var b strings.Builder
	p := enc
	line := func(raw []byte, name, value string) {
		for len(raw) > 8 {
			fmt.Fprintf(&b, "% x\n", raw[:8])
			raw = raw[8:]
		}
		fmt.Fprintf(&b, "%-25s%-13s%s\n", fmt.Sprintf("% x", raw), name, value)
	}
	take := func(n int) []byte {
		if len(p) < n {
			t.Fatalf("layout runs past the end of %x", enc)
		}
		v := p[:n]
		p = p[n:]
		return v
	}
	var walk func(fs []field)
	typ := Type(enc[4])
	walk = func(fs []field) {
		lastLen := 0
		for _, f := range fs {
			switch f.kind {
			case kU8:
				v := take(1)
				line(v, f.name, fmt.Sprintf("0x%02x %v", v[0], Type(v[0])))
			case kPrim:
				v := take(1)
				line(v, f.name, fmt.Sprintf("%d %v", v[0], Prim(v[0])))
			case kAction:
				v := take(1)
				line(v, f.name, fmt.Sprintf("%d %v", v[0], Action(v[0])))
			case kFlags:
				v := take(1)
				line(v, f.name, fmt.Sprintf("0x%02x %v", v[0], Flags(v[0])))
			case kU16:
				v := take(2)
				line(v, f.name, strconv.Itoa(int(be.Uint16(v))))
			case kU32:
				v := take(4)
				line(v, f.name, strconv.FormatUint(uint64(be.Uint32(v)), 10))
			case kU64:
				v := take(8)
				line(v, f.name, strconv.FormatUint(be.Uint64(v), 10))
			case kI64:
				v := take(8)
				d := int64(be.Uint64(v))
				s := strconv.FormatInt(d, 10)
				if d > 0 {
					s += " (" + time.Duration(d).String() + ")"
				}
				line(v, f.name, s)
			case kCode:
				v := take(2)
				c := Code(be.Uint16(v))
				line(v, f.name, fmt.Sprintf("%d (%v)", c, c))
			case kLen:
				v := take(2)
				lastLen = int(be.Uint16(v))
				line(v, f.name, strconv.Itoa(lastLen))
			case kBytes:
				if lastLen == 0 {
					continue // an empty field has no bytes to show
				}
				v := take(lastLen)
				line(v, f.name, strconv.Quote(string(v)))
			case kCount:
				v := take(2)
				n := int(be.Uint16(v))
				line(v, f.name, strconv.Itoa(n))
				for range n {
					walk(f.entry)
				}
			}
		}
	}
	walk(headerLayout)
	walk(bodyLayouts[typ])
	if len(p) != 0 {
		t.Fatalf("%v layout leaves %d bytes of %x", typ, len(p), enc)
	}
	return b.String()
}

// TestLayoutMatchesEncoder walks every sample frame with the layout table: the table must
// consume exactly the encoded bytes, so the documented offsets are the encoder's offsets.
func TestLayoutMatchesEncoder(t *testing.T) {
	for _, f := range sampleFrames() {
		if _, ok := bodyLayouts[f.Type]; !ok {
			t.Fatalf("no layout for %v", f.Type)
		}
		annotate(t, Append(nil, &f))
	}
}
