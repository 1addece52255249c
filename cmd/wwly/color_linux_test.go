package main

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx) closed when the test ends.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestColorEnabled(t *testing.T) {
	_, tty := openPTY(t)
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	tests := []struct {
		name, noColor, term string
		w                   any
		want                bool
	}{
		{name: "terminal", term: "xterm", w: tty, want: true},
		{name: "NO_COLOR", noColor: "1", term: "xterm", w: tty},
		{name: "dumb terminal", term: "dumb", w: tty},
		{name: "empty NO_COLOR is unset", noColor: "", term: "xterm", w: tty, want: true},
		{name: "pipe-like buffer", term: "xterm", w: &bytes.Buffer{}},
		{name: "character device that is not a terminal", term: "xterm", w: devNull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			t.Setenv("TERM", tc.term)
			var got bool
			switch w := tc.w.(type) {
			case *os.File:
				got = colorEnabled(w)
			case *bytes.Buffer:
				got = colorEnabled(w)
			}
			if got != tc.want {
				t.Errorf("colorEnabled = %v, want %v", got, tc.want)
			}
			want := "FAIL"
			if tc.want {
				want = "\x1b[1;31mFAIL\x1b[0m"
			}
			if w, ok := tc.w.(*os.File); ok {
				if got := paint(w, "1;31", "FAIL"); got != want {
					t.Errorf("paint = %q, want %q", got, want)
				}
			}
		})
	}
}
