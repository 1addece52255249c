package wire

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// sampleFrames has at least one frame of every Type, with edge values (zero, max, negative
// durations where legal, empty and full-length names).
func sampleFrames() []Frame {
	maxName := bytes.Repeat([]byte("n"), DefaultLimits().MaxName)
	return []Frame{
		{Type: Hello, Req: 1, Version: Version, Auth: []byte("secret"), ClientName: []byte("worker-17")},
		{Type: Hello, Req: 1, Version: 9},
		{Type: Welcome, Req: 1, Version: Version, Session: 42, Heartbeat: 1e9, Timeout: 5e9},
		{Type: Acquire, Req: 7, Name: []byte("jobs/42"), Wait: -1, TTL: 30e9},
		{Type: Acquire, Req: 1<<64 - 1, Name: maxName, Wait: 0, TTL: 0},
		{Type: Granted, Req: 7, Token: 1<<63 + 5},
		{Type: Release, Req: 8, Name: []byte("jobs/42"), Token: 99},
		{Type: OK, Req: 8},
		{Type: Cancel, Req: 9, Target: 7},
		{Type: Renew, Req: 10, Name: []byte("x"), Token: 3, TTL: 1},
		{Type: Renew, Req: 10, Name: []byte("x"), Token: 3, TTL: 0},
		{Type: Acquire, Req: 7, Name: []byte("y"), Wait: 5, TTL: -3},
		{Type: Lost, Req: 0, Target: 7, Name: []byte("jobs/42"), Token: 99, Code: CodeLeaseExpired},
		{Type: Status, Req: 11},
		{Type: Status, Req: 12, Names: [][]byte{[]byte("a"), []byte("bb"), maxName}},
		{Type: StatusReply, Req: 11},
		{Type: StatusReply, Req: 12, Locks: []LockInfo{
			{Name: []byte("a"), Holder: 42, Token: 99, Waiters: 3, OldestWait: 1500, LeaseLeft: 2e9},
			{Name: []byte("bb"), LeaseLeft: -7},
		}},
		{Type: Ping, Req: 13},
		{Type: Pong, Req: 13},
		{Type: Error, Req: 7, Code: CodeTimeout, Msg: []byte("waited 1s")},
		{Type: Error, Req: 0, Code: Code(999)},
		{Type: Op, Req: 14, Prim: PrimSemaphore, Action: ActAcquire, Flags: FlagDetect | FlagShared, N: 3, Param: 4,
			Owner: 1<<64 - 1, Token: 5, Wait: -1, Name: []byte("s"), Lock: []byte("lk")},
		{Type: Op, Req: 15, Prim: 99, Action: 77, Flags: 0xff, Name: maxName, Lock: maxName},
		{Type: Acquired, Req: 16, Token: 9, Value: -1, Code: CodeTimeout},
		{Type: Sessions, Req: 17},
		{Type: Sessions, Req: 18, IDs: []uint64{42, 1<<64 - 1}},
		{Type: SessionsReply, Req: 17},
		{Type: SessionsReply, Req: 18, Sessions: []SessionInfo{
			{Session: 42, Client: []byte("wwly lock jobs host=web-1 pid=4242"), Remote: []byte("127.0.0.1:51234")},
			{Session: 1<<64 - 1, Locks: 1<<32 - 1},
		}},
		{Type: StatusReply, Req: 17, Locks: []LockInfo{{Name: []byte("c"), Kind: PrimSemaphore, Holders: 2, Value: -3}}},
		{Type: Redirect, Req: 1, Addr: []byte("127.0.0.1:1977")},
		{Type: Redirect, Req: 1},
		{Type: Resume, Req: 1, Version: Version, Auth: []byte("tok"), ClientName: []byte("w host=h pid=1"), Session: 43, Secret: []byte("s")},
		{Type: Resume, Req: 2, Version: Version, Session: 1<<64 - 1},
		{Type: Cluster, Req: 3, Auth: []byte("tok")},
		{Type: Cluster, Req: 3},
		{Type: ClusterReply, Req: 3, View: ClusterView{ID: []byte("n1"), State: RaftLeader, Term: 7, Commit: 99, Applied: 98, Leader: []byte("n1")},
			Members: []MemberInfo{{ID: []byte("n1"), Raft: []byte("127.0.0.1:1978"), Client: []byte("127.0.0.1:1977")}, {ID: []byte("n2")}}},
		{Type: ClusterReply, Req: 4, View: ClusterView{State: RaftFollower}},
	}
}

// equalFrames compares frames field by field, treating nil and empty slices alike.
func equalFrames(a, b *Frame) bool {
	return bytes.Equal(Append(nil, a), Append(nil, b)) && a.Type == b.Type && a.Req == b.Req &&
		len(a.Names) == len(b.Names) && len(a.Locks) == len(b.Locks)
}

func TestRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	for _, want := range sampleFrames() {
		t.Run(want.Type.String(), func(t *testing.T) {
			seen[want.Type] = true
			enc := Append([]byte("prefix"), &want)[len("prefix"):]
			var got Frame
			n, err := Decode(enc, DefaultLimits(), &got)
			if err != nil || n != len(enc) {
				t.Fatalf("Decode = %d, %v; want %d, nil", n, err, len(enc))
			}
			if !reflect.DeepEqual(normalize(got), normalize(want)) {
				t.Fatalf("round trip:\n got  %+v\n want %+v", got, want)
			}
			if re := Append(nil, &got); !bytes.Equal(re, enc) {
				t.Fatalf("re-encode differs:\n got  %x\n want %x", re, enc)
			}
		})
	}
	for typ := Hello; typ <= LastType; typ++ {
		if !seen[typ] {
			t.Errorf("no sample frame of type %v", typ)
		}
	}
}

// normalize makes empty Names/Locks nil so DeepEqual ignores reused capacity.
func normalize(f Frame) Frame {
	if len(f.Names) == 0 {
		f.Names = nil
	}
	if len(f.Locks) == 0 {
		f.Locks = nil
	}
	if len(f.IDs) == 0 {
		f.IDs = nil
	}
	if len(f.Sessions) == 0 {
		f.Sessions = nil
	}
	return f
}

// TestHelpersMatchAppend checks each hot-path appender against the generic Append.
func TestHelpersMatchAppend(t *testing.T) {
	name := []byte("jobs/42")
	tests := []struct {
		got  []byte
		want Frame
	}{
		{AppendHello(nil, 1, []byte("a"), []byte("c")), Frame{Type: Hello, Req: 1, Version: Version, Auth: []byte("a"), ClientName: []byte("c")}},
		{AppendWelcome(nil, 1, 2, 3, 4), Frame{Type: Welcome, Req: 1, Version: Version, Session: 2, Heartbeat: 3, Timeout: 4}},
		{AppendAcquire(nil, 5, name, -1, 6), Frame{Type: Acquire, Req: 5, Name: name, Wait: -1, TTL: 6}},
		{AppendGranted(nil, 5, 7), Frame{Type: Granted, Req: 5, Token: 7}},
		{AppendRelease(nil, 8, name, 7), Frame{Type: Release, Req: 8, Name: name, Token: 7}},
		{AppendOK(nil, 8), Frame{Type: OK, Req: 8}},
		{AppendCancel(nil, 9, 5), Frame{Type: Cancel, Req: 9, Target: 5}},
		{AppendRenew(nil, 10, name, 7, 11), Frame{Type: Renew, Req: 10, Name: name, Token: 7, TTL: 11}},
		{AppendLost(nil, 5, name, 7, CodeLeaseExpired), Frame{Type: Lost, Target: 5, Name: name, Token: 7, Code: CodeLeaseExpired}},
		{AppendStatus(nil, 12, [][]byte{name}), Frame{Type: Status, Req: 12, Names: [][]byte{name}}},
		{AppendStatusReply(nil, 12, []LockInfo{{Name: name, Holder: 1}}), Frame{Type: StatusReply, Req: 12, Locks: []LockInfo{{Name: name, Holder: 1}}}},
		{AppendSessions(nil, 15, []uint64{3}), Frame{Type: Sessions, Req: 15, IDs: []uint64{3}}},
		{AppendSessionsReply(nil, 15, []SessionInfo{{Session: 3, Client: name}}), Frame{Type: SessionsReply, Req: 15,
			Sessions: []SessionInfo{{Session: 3, Client: name}}}},
		{AppendPing(nil, 13), Frame{Type: Ping, Req: 13}},
		{AppendPong(nil, 13), Frame{Type: Pong, Req: 13}},
		{AppendError(nil, 14, CodeNotHeld, "no"), Frame{Type: Error, Req: 14, Code: CodeNotHeld, Msg: []byte("no")}},
	}
	for _, tt := range tests {
		if want := Append(nil, &tt.want); !bytes.Equal(tt.got, want) {
			t.Errorf("%v: helper %x, Append %x", tt.want.Type, tt.got, want)
		}
	}
}

// TestByteAtATime feeds every sample one byte more at a time: Decode must ask for more until
// the last byte, then return exactly the frame.
func TestByteAtATime(t *testing.T) {
	for _, want := range sampleFrames() {
		enc := Append(nil, &want)
		var f Frame
		for i := 0; i < len(enc); i++ {
			n, err := Decode(enc[:i], DefaultLimits(), &f)
			if n != 0 || err != nil {
				t.Fatalf("%v: Decode(%d of %d bytes) = %d, %v; want need-more", want.Type, i, len(enc), n, err)
			}
		}
		n, err := Decode(enc, DefaultLimits(), &f)
		if n != len(enc) || err != nil || !equalFrames(&f, &want) {
			t.Fatalf("%v: Decode(all) = %d, %v, %+v", want.Type, n, err, f)
		}
	}
}

// TestBackToBack decodes every sample from one buffer, twice over, reusing one Frame.
func TestBackToBack(t *testing.T) {
	samples := sampleFrames()
	var buf []byte
	for range 2 {
		for i := range samples {
			buf = Append(buf, &samples[i])
		}
	}
	var f Frame
	for i := 0; i < 2*len(samples); i++ {
		n, err := Decode(buf, DefaultLimits(), &f)
		if err != nil || n == 0 {
			t.Fatalf("frame %d: Decode = %d, %v", i, n, err)
		}
		if want := &samples[i%len(samples)]; !equalFrames(&f, want) {
			t.Fatalf("frame %d: got %+v want %+v", i, f, *want)
		}
		buf = buf[n:]
	}
	if len(buf) != 0 {
		t.Fatalf("%d bytes left over", len(buf))
	}
}

// TestDecodeResetsFrame checks no field of an earlier frame leaks into the next.
func TestDecodeResetsFrame(t *testing.T) {
	f := Frame{Name: []byte("stale"), Token: 9, Msg: []byte("old"), Names: [][]byte{[]byte("x")}}
	if _, err := Decode(AppendOK(nil, 3), DefaultLimits(), &f); err != nil {
		t.Fatal(err)
	}
	if f.Name != nil || f.Token != 0 || f.Msg != nil || len(f.Names) != 0 || f.Req != 3 {
		t.Fatalf("stale fields: %+v", f)
	}
}

// frameBytes builds a frame with a correct length field around typ, req 1 and body.
func frameBytes(typ Type, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	out := be.AppendUint32(nil, uint32(9+len(b)))
	out = append(out, byte(typ))
	out = be.AppendUint64(out, 1)
	return append(out, b...)
}

func u16(v uint16) []byte { return be.AppendUint16(nil, v) }
func u64(v uint64) []byte { return be.AppendUint64(nil, v) }
func i64(v int64) []byte  { return be.AppendUint64(nil, uint64(v)) }

func TestMalformed(t *testing.T) {
	long := bytes.Repeat([]byte("n"), 257)
	tests := []struct {
		name    string
		in      []byte
		want    error
		wantN   bool   // the frame was delimited, so n is its size
		errText string // a piece of context the error must carry
	}{
		{"length 0", []byte{0, 0, 0, 0}, ErrBadFrame, false, "under minimum"},
		{"length 8", []byte{0, 0, 0, 8}, ErrBadFrame, false, "under minimum"},
		{"oversize", []byte{0, 1, 0, 1}, ErrFrameTooLarge, false, "over limit 65536"},
		{"max u32", []byte{0xff, 0xff, 0xff, 0xff}, ErrFrameTooLarge, false, "4294967295"},
		{"unknown type 0", frameBytes(0), ErrUnknownType, true, "0x00"},
		{"unknown type 0x17", frameBytes(0x17), ErrUnknownType, true, "0x17"},
		{"op truncated", frameBytes(Op, []byte{3, 1, 0}), ErrBadFrame, true, "truncated OP"},
		{"op empty name", frameBytes(Op, []byte{3, 1, 0}, make([]byte, 32), u16(0), u16(0)), ErrNameLength, true, "OP"},
		{"op long lock", frameBytes(Op, []byte{8, 1, 0}, make([]byte, 32), u16(1), []byte("c"), u16(300), make([]byte, 300)), ErrNameLength, true, "OP"},
		{"op trailing", frameBytes(Op, []byte{8, 1, 0}, make([]byte, 32), u16(1), []byte("c"), u16(0), []byte{0}), ErrBadFrame, true, "trailing"},
		{"acquired short", frameBytes(Acquired, u64(1), u64(2)), ErrBadFrame, true, "truncated ACQUIRED"},
		{"ok trailing", frameBytes(OK, []byte{1}), ErrBadFrame, true, "1 trailing bytes in OK"},
		{"ping trailing", frameBytes(Ping, []byte{1, 2}), ErrBadFrame, true, "trailing"},
		{"granted short", frameBytes(Granted, []byte{1, 2, 3}), ErrBadFrame, true, "truncated GRANTED"},
		{"granted trailing", frameBytes(Granted, u64(1), []byte{0}), ErrBadFrame, true, "trailing"},
		{"acquire no name", frameBytes(Acquire, i64(0), i64(0)), ErrBadFrame, true, "truncated ACQUIRE"},
		{"acquire name past end", frameBytes(Acquire, i64(0), i64(0), u16(5), []byte("abc")), ErrBadFrame, true, "truncated"},
		{"acquire trailing", frameBytes(Acquire, i64(0), i64(0), u16(1), []byte("ab")), ErrBadFrame, true, "trailing"},
		{"acquire empty name", frameBytes(Acquire, i64(0), i64(0), u16(0)), ErrNameLength, true, "0 bytes"},
		{"acquire long name", frameBytes(Acquire, i64(0), i64(0), u16(257), long), ErrNameLength, true, "257 bytes"},
		{"release long name", frameBytes(Release, u64(1), u16(257), long), ErrNameLength, true, "RELEASE"},
		{"renew empty name", frameBytes(Renew, u64(1), i64(1), u16(0)), ErrNameLength, true, "RENEW"},
		{"lost short", frameBytes(Lost, u64(1), u64(1)), ErrBadFrame, true, "truncated LOST"},
		{"cancel short", frameBytes(Cancel, []byte{0}), ErrBadFrame, true, "truncated CANCEL"},
		{"hello short", frameBytes(Hello, u16(1), u16(3), []byte("ab")), ErrBadFrame, true, "truncated HELLO"},
		{"welcome negative heartbeat", frameBytes(Welcome, u16(1), u64(1), i64(-1), i64(1)), ErrBadFrame, true, "heartbeat"},
		{"welcome negative timeout", frameBytes(Welcome, u16(1), u64(1), i64(1), i64(-5)), ErrBadFrame, true, "timeout"},
		{"error msg past end", frameBytes(Error, u16(1), u16(9), []byte("ab")), ErrBadFrame, true, "truncated ERROR"},
		{"status count over bytes", frameBytes(Status, u16(3), u16(1), []byte("a")), ErrBadFrame, true, "count 3"},
		{"status count over limit", frameBytes(Status, u16(1025), bytes.Repeat([]byte{0}, 2050)), ErrBadFrame, true, "over limit 1024"},
		{"status trailing", frameBytes(Status, u16(1), u16(1), []byte("ab")), ErrBadFrame, true, "trailing"},
		{"status empty name", frameBytes(Status, u16(2), u16(1), []byte("a"), u16(0)), ErrNameLength, true, "STATUS"},
		{"status short count", frameBytes(Status, []byte{0}), ErrBadFrame, true, "truncated"},
		{"reply count over bytes", frameBytes(StatusReply, u16(1), u64(1)), ErrBadFrame, true, "count 1"},
		{"reply empty name", frameBytes(StatusReply, u16(1), u64(1), u64(1), []byte{0, 0, 0, 0}, i64(0), i64(0), []byte{1}, []byte{0, 0, 0, 1}, i64(0), u16(0)), ErrNameLength, true, "STATUS_REPLY"},
		{"reply of the version 1 layout", frameBytes(StatusReply, u16(1), u64(1), u64(1), []byte{0, 0, 0, 0}, i64(0), i64(0), u16(1), []byte("a")), ErrBadFrame, true, "STATUS_REPLY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			n, err := Decode(tt.in, DefaultLimits(), &f)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode(%x) error = %v; want %v", tt.in, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %q lacks context %q", err, tt.errText)
			}
			wantN := 0
			if tt.wantN {
				wantN = len(tt.in)
				if f.Req != 1 {
					t.Errorf("delimited bad frame: Req = %d, want 1", f.Req)
				}
			}
			if n != wantN {
				t.Errorf("n = %d, want %d", n, wantN)
			}
		})
	}
}

// TestOversizeFromHeader: the length alone condemns a frame, before any body byte arrives.
func TestOversizeFromHeader(t *testing.T) {
	lim := Limits{MaxFrame: 100}
	hdr := be.AppendUint32(nil, 101)
	for i := 0; i < 4; i++ {
		if n, err := Decode(hdr[:i], lim, new(Frame)); n != 0 || err != nil {
			t.Fatalf("%d header bytes: %d, %v; want need-more", i, n, err)
		}
	}
	if _, err := Decode(hdr, lim, new(Frame)); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("got %v, want ErrFrameTooLarge", err)
	}
	// Exactly MaxFrame is fine: only the body is missing.
	if n, err := Decode(be.AppendUint32(nil, 100), lim, new(Frame)); n != 0 || err != nil {
		t.Fatalf("length == MaxFrame: %d, %v; want need-more", n, err)
	}
}

func TestLimits(t *testing.T) {
	name := bytes.Repeat([]byte("n"), 10)
	enc := AppendAcquire(nil, 1, name, 0, 0)
	var f Frame
	if _, err := Decode(enc, Limits{MaxName: 9}, &f); !errors.Is(err, ErrNameLength) {
		t.Errorf("MaxName 9: %v, want ErrNameLength", err)
	}
	if _, err := Decode(enc, Limits{MaxName: 10}, &f); err != nil {
		t.Errorf("MaxName 10: %v", err)
	}
	if _, err := Decode(enc, Limits{MaxFrame: len(enc) - 5}, &f); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("MaxFrame one short: %v, want ErrFrameTooLarge", err)
	}
	if _, err := Decode(enc, Limits{}, &f); err != nil {
		t.Errorf("zero Limits should mean defaults: %v", err)
	}
	if err := CheckName(nil, Limits{}); !errors.Is(err, ErrNameLength) {
		t.Errorf("CheckName(empty) = %v", err)
	}
	if err := CheckName(name, Limits{}); err != nil {
		t.Errorf("CheckName(10 bytes) = %v", err)
	}
}

// TestUnencodable: a name that no u16 can measure is poisoned, never truncated.
func TestUnencodable(t *testing.T) {
	huge := make([]byte, 1<<16)
	for name, got := range map[string][]byte{
		"acquire": AppendAcquire(nil, 1, huge, 0, 0),
		"release": AppendRelease(nil, 1, huge, 1),
		"renew":   AppendRenew(nil, 1, huge, 1, 1),
		"lost":    AppendLost(nil, 1, huge, 1, CodeLeaseExpired),
		"hello":   AppendHello(nil, 1, huge, nil),
		"status":  AppendStatus(nil, 1, [][]byte{huge}),
		"reply":   AppendStatusReply(nil, 1, []LockInfo{{Name: huge}}),
		"unknown": Append(nil, &Frame{Type: 0x7f}),
	} {
		_, err := Decode(got, Limits{MaxFrame: 1 << 20}, new(Frame))
		if !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: decoding the poisoned frame gave %v, want ErrBadFrame", name, err)
		}
	}
	msg := strings.Repeat("m", 1<<16+10)
	var f Frame
	if _, err := Decode(AppendError(nil, 1, CodeInternal, msg), Limits{MaxFrame: 1 << 20}, &f); err != nil || len(f.Msg) != 1<<16-1 {
		t.Errorf("long ERROR message: %v, %d bytes", err, len(f.Msg))
	}
}

func TestCodes(t *testing.T) {
	for c := CodeBadFrame; c <= LastCode; c++ {
		if s := c.String(); strings.HasPrefix(s, "code(") {
			t.Errorf("code %d has no name", c)
		}
	}
	if s := Code(77).String(); s != "code(77)" {
		t.Errorf("unknown code = %q", s)
	}
	if !CodeAuth.ClosesConn() || CodeTimeout.ClosesConn() || CodeNameLength.ClosesConn() {
		t.Error("ClosesConn disagrees with docs/protocol.md")
	}
	for typ := Hello; typ <= LastType; typ++ {
		if strings.HasPrefix(typ.String(), "TYPE(") {
			t.Errorf("type %d has no name", typ)
		}
	}
	if s := Type(0x42).String(); s != "TYPE(0x42)" {
		t.Errorf("unknown type = %q", s)
	}
}

func TestCodeError(t *testing.T) {
	var err error = &CodeError{Code: CodeTimeout, Msg: "waited 1s"}
	if got := err.Error(); got != "wwly: timeout: waited 1s" {
		t.Errorf("Error() = %q", got)
	}
	if got := (CodeError{Code: CodeNotHeld}).Error(); got != "wwly: not held" {
		t.Errorf("Error() = %q", got)
	}
	wrapped := errors.Join(errors.New("acquire jobs/42"), err)
	if !errors.Is(wrapped, CodeError{Code: CodeTimeout}) || !errors.Is(wrapped, &CodeError{Code: CodeTimeout}) {
		t.Error("errors.Is should match on Code")
	}
	if errors.Is(wrapped, CodeError{Code: CodeNotHeld}) {
		t.Error("errors.Is matched a different Code")
	}
	var ce *CodeError
	if !errors.As(wrapped, &ce) || ce.Msg != "waited 1s" {
		t.Errorf("errors.As = %v", ce)
	}
}
