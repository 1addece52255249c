package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wwly/wwly/client"
)

// TestHolderText: the HOLDER cell is the session id, then the client string escaped as names
// are, so a hostile client field cannot forge rows or colours.
func TestHolderText(t *testing.T) {
	who := map[uint64]client.SessionInfo{
		7: {Session: 7, Client: "wwly lock a host=h pid=9"},
		8: {Session: 8, Client: "evil\n9 forged\x1b[31m"},
		9: {Session: 9},
	}
	tests := []struct {
		id   uint64
		want string
	}{
		{0, "-"},
		{7, "7 wwly lock a host=h pid=9"},
		{8, `8 "evil\n9 forged\x1b[31m"`},
		{9, "9"},   // no client field
		{10, "10"}, // not known (old server, or gone)
	}
	for _, tt := range tests {
		if got := holderText(tt.id, who); got != tt.want {
			t.Errorf("holderText(%d) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestPrintSessions(t *testing.T) {
	s := []client.SessionInfo{{Session: 3, Client: "x host=h pid=4", Remote: "127.0.0.1:5", Locks: 2, Who: client.ParseWho("x host=h pid=4")}}
	var table, js bytes.Buffer
	if err := printSessions(&table, s, false); err != nil {
		t.Fatal(err)
	}
	if out := table.String(); !strings.Contains(out, "SESSION") || !strings.Contains(out, "127.0.0.1:5  x host=h pid=4") {
		t.Errorf("table:\n%s", out)
	}
	if err := printSessions(&js, s, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"session": 3`, `"client_name": "x"`, `"host": "h"`, `"pid": 4`, `"remote": "127.0.0.1:5"`, `"locks": 2`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("json lacks %s:\n%s", want, js.String())
		}
	}
}
