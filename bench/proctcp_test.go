package bench

import (
	"errors"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestParseProcTCP(t *testing.T) {
	if runtime.GOARCH == "s390x" || runtime.GOARCH == "ppc64" {
		t.Skip("the golden table is from a little-endian kernel")
	}
	text, err := os.ReadFile("testdata/proc_net_tcp.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseProcTCP(string(text))
	if err != nil {
		t.Fatal(err)
	}
	want := []procConn{
		{local: "127.0.0.1:35141", remote: "0.0.0.0:0", state: 0x0A, inode: "1989043"},
		{local: "127.0.0.1:50000", remote: "127.0.0.1:8080", state: tcpEstablished, inode: "2000311"},
		{local: "127.0.0.1:8080", remote: "127.0.0.1:50000", state: tcpEstablished, inode: "2000312"},
		{local: "15.2.0.10:22", remote: "10.0.0.1:54321", state: 6, inode: "0"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseProcTCP =\n%v\nwant\n%v", got, want)
	}
}

func TestParseProcTCPMalformed(t *testing.T) {
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	row := func(local, rem, st string) string {
		return "0: " + local + " " + rem + " " + st + " 0:0 0:0 0 0 0 42\n"
	}
	tests := []struct{ name, text string }{
		{"no header", row("0100007F:1F90", "0100007F:C350", "01")},
		{"short row", header + "0: 0100007F:1F90 0100007F:C350 01\n"},
		{"IPv6 address", header + row("00000000000000000000000001000000:1F90", "0100007F:C350", "01")},
		{"no port", header + row("0100007F", "0100007F:C350", "01")},
		{"bad hex", header + row("0100007G:1F90", "0100007F:C350", "01")},
		{"port too big", header + row("0100007F:1F900", "0100007F:C350", "01")},
		{"bad state", header + row("0100007F:1F90", "0100007F:C350", "zz")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseProcTCP(tt.text); !errors.Is(err, ErrProcTCP) {
				t.Errorf("parseProcTCP = %v; want ErrProcTCP", err)
			}
		})
	}
}

func FuzzParseProcTCP(f *testing.F) {
	if b, err := os.ReadFile("testdata/proc_net_tcp.txt"); err == nil {
		f.Add(string(b))
	}
	f.Add("local_address\n0: 0100007F:1F90 0100007F:C350 01 0 0 0 0 0 0 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		conns, err := parseProcTCP(text)
		if err != nil {
			if !errors.Is(err, ErrProcTCP) {
				t.Fatalf("error %v does not wrap ErrProcTCP", err)
			}
			return
		}
		for _, c := range conns {
			for _, a := range []string{c.local, c.remote} {
				if _, _, err := net.SplitHostPort(a); err != nil || strings.Count(a, ".") != 3 {
					t.Fatalf("address %q is not IPv4 HOST:PORT", a)
				}
			}
		}
	})
}

// TestConnectedTo: a connection this process opens is found; a listener it is not connected
// to is not.
func TestConnectedTo(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	var ls []net.Listener
	for range 2 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		ls = append(ls, l)
	}
	c, err := net.Dial("tcp4", ls[1].Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := []string{ls[0].Addr().String(), ls[1].Addr().String()}
	got, err := connectedTo(addrs)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, addrs[1:]) {
		t.Errorf("connectedTo(%v) = %v; want %v", addrs, got, addrs[1:])
	}
}
