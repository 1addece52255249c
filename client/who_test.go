package client

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestParseWho(t *testing.T) {
	tests := []struct {
		in   string
		want Who
	}{
		{"wwly lock jobs/42 host=web-1 pid=4242", Who{Name: "wwly lock jobs/42", Host: "web-1", PID: 4242}},
		{"svc pid=7 host=b", Who{Name: "svc", Host: "b", PID: 7}},
		{"host=h pid=1", Who{Host: "h", PID: 1}},
		{"web-1/42", Who{Name: "web-1/42"}},
		{"", Who{}},
		{"x pid=abc", Who{Name: "x pid=abc"}},
		{"x pid=-3 host=h", Who{Name: "x pid=-3", Host: "h"}},
		{"a host=h", Who{Name: "a", Host: "h"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ParseWho(tt.in)
			if got != tt.want {
				t.Fatalf("ParseWho(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if again := ParseWho(got.String()); again != got {
				t.Fatalf("ParseWho(String()) = %+v, want %+v", again, got)
			}
		})
	}
}

func TestHelloClient(t *testing.T) {
	host, _ := os.Hostname()
	pid := strconv.Itoa(os.Getpid())
	tests := []struct{ name, want string }{
		{"deploy", "deploy host=" + host + " pid=" + pid},
		{"mine host=x pid=9", "mine host=x pid=9"}, // already says who it is: kept
	}
	for _, tt := range tests {
		if got := helloClient(tt.name); got != tt.want {
			t.Errorf("helloClient(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := ParseWho(helloClient("")); got.Name == "" || got.PID != os.Getpid() {
		t.Errorf("helloClient(\"\") = %q: want the program's name and this pid", helloClient(""))
	}
}

// TestSessions: the holder named by Status is found by Sessions, with this process's name,
// host and pid, and the address the server saw.
func TestSessions(t *testing.T) {
	addr := startServer(t, nil)
	a := dial(t, addr, WithClientName("holder"))
	b := dial(t, addr)
	ma := a.Mutex("who")
	ma.Lock()
	defer ma.Unlock()
	ctx := context.Background()
	st, err := b.Status(ctx, "who")
	if err != nil || len(st) != 1 {
		t.Fatalf("Status = %v, %v", st, err)
	}
	got, err := b.Sessions(ctx, st[0].Holder)
	if err != nil || len(got) != 1 {
		t.Fatalf("Sessions(%d) = %+v, %v", st[0].Holder, got, err)
	}
	host, _ := os.Hostname()
	if s := got[0]; s.Session != a.Session() || s.Name != "holder" || s.Host != host || s.PID != os.Getpid() || s.Locks != 1 ||
		!strings.HasPrefix(s.Remote, "127.0.0.1:") {
		t.Fatalf("Sessions = %+v, want session %d holder on %s pid %d", s, a.Session(), host, os.Getpid())
	}
	all, err := b.Sessions(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Sessions() of all = %+v, %v; want 2", all, err)
	}
}

// ExampleClient_Sessions shows who holds a lock: Status names the holder's session, Sessions
// says which program, host and process that is.
func ExampleClient_Sessions() {
	c, err := Dial(context.Background(), DefaultAddr, WithClientName("report"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	locks, err := c.Status(context.Background(), "jobs/42")
	if err != nil || len(locks) == 0 {
		return
	}
	who, err := c.Sessions(context.Background(), locks[0].Holder)
	if err == nil && len(who) == 1 {
		fmt.Printf("held by %s on %s (pid %d)\n", who[0].Name, who[0].Host, who[0].PID)
	}
}
