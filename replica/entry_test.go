package replica

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/wwly/wwly/engine"
)

// allCommands has one command of every op, with every field of the op set.
func allCommands() []Command {
	kind := engine.Op{Prim: engine.PrimCondition, Name: []byte("cv"), Owner: 7, N: 2, Value: 3, Shared: true,
		Token: 1<<40 | 5, Lock: []byte("lk"), Wait: -1, Detect: true}
	return []Command{
		{Op: OpAcquire, Session: 1, Req: 2, Name: []byte("a"), Wait: time.Second, TTL: -1},
		{Op: OpRelease, Session: 1, Req: 3, Name: []byte("a"), Token: 1<<40 | 1},
		{Op: OpRenew, Session: 1, Req: 4, Name: []byte("a"), Token: 1<<40 | 1, TTL: time.Minute},
		{Op: OpCancel, Session: 1, Req: 5, Target: 2},
		{Op: OpAcquireKind, Session: 2, Req: 1, Kind: kind},
		{Op: OpReleaseKind, Session: 2, Req: 2, Kind: kind},
		{Op: OpOpen, Session: 2, Req: 3, Kind: kind},
		{Op: OpCloseName, Session: 2, Req: 4, Kind: kind},
		{Op: OpSignal, Session: 2, Req: 5, Action: engine.ActNotifyAll, Kind: kind},
		{Op: OpOpenSession, Secret: []byte("0123456789abcdef")},
		{Op: OpCloseSession, Session: 9},
		{Op: OpTick},
	}
}

func TestEntryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		en   Entry
	}{
		{"empty", Entry{Now: 0}},
		{"negative time", Entry{Now: -5, Commands: []Command{{Op: OpTick}}}},
		{"every op", Entry{Now: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC).UnixNano(), Commands: allCommands()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := AppendEntry(nil, &tt.en)
			var got Entry
			if err := DecodeEntry(data, &got); err != nil {
				t.Fatal(err)
			}
			if got.Now != tt.en.Now || len(got.Commands) != len(tt.en.Commands) {
				t.Fatalf("got %+v, want %+v", got, tt.en)
			}
			for i := range got.Commands {
				if !reflect.DeepEqual(got.Commands[i], tt.en.Commands[i]) {
					t.Errorf("command %d (%v): got %+v, want %+v", i, tt.en.Commands[i].Op, got.Commands[i], tt.en.Commands[i])
				}
			}
		})
	}
}

func TestDecodeEntryRejects(t *testing.T) {
	good := AppendEntry(nil, &Entry{Now: 1, Commands: allCommands()})
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"version", append([]byte{2}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(bytes.Clone(good), 0)},
		{"unknown op", AppendEntry(nil, &Entry{Commands: []Command{{Op: numOps}}})},
		{"zero op", AppendEntry(nil, &Entry{Commands: []Command{{Op: 0}}})},
		{"long secret", AppendEntry(nil, &Entry{Commands: []Command{{Op: OpOpenSession, Secret: make([]byte, MaxSecret+1)}}})},
		{"long name", AppendEntry(nil, &Entry{Commands: []Command{{Op: OpAcquire, Name: make([]byte, MaxName+1)}}})},
		{"count beyond data", []byte{entryVersion, 0, 0xff, 0x7f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var en Entry
			if err := DecodeEntry(tt.data, &en); !errors.Is(err, ErrEntry) {
				t.Fatalf("DecodeEntry: %v, want ErrEntry", err)
			}
		})
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{})
	f.Add(AppendEntry(nil, &Entry{Now: 1, Commands: allCommands()}))
	for _, c := range allCommands() {
		f.Add(AppendEntry(nil, &Entry{Now: 7, Commands: []Command{c}}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var en Entry
		if err := DecodeEntry(data, &en); err != nil {
			if !errors.Is(err, ErrEntry) {
				t.Fatalf("error %v does not wrap ErrEntry", err)
			}
			return
		}
		// The input may be non-canonical (long varints); its re-encoding is canonical.
		once := AppendEntry(nil, &en)
		var again Entry
		if err := DecodeEntry(once, &again); err != nil {
			t.Fatalf("re-encoded entry rejected: %v", err)
		}
		if twice := AppendEntry(nil, &again); !bytes.Equal(once, twice) {
			t.Fatalf("re-encoding not stable:\n%x\n%x", once, twice)
		}
		if !reflect.DeepEqual(en.Commands, again.Commands) && len(en.Commands) > 0 {
			t.Fatalf("commands differ after a round trip:\n%+v\n%+v", en.Commands, again.Commands)
		}
	})
}
