package main

import (
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestParseWait(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "5", want: 5 * time.Second},
		{in: "0.5", want: 500 * time.Millisecond},
		{in: "0", want: 0},
		{in: ".25", want: 250 * time.Millisecond},
		{in: "1m30s", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "-1", bad: true},
		{in: "-1s", bad: true},
		{in: "soon", bad: true},
		{in: "", bad: true},
		{in: "1e300", bad: true},
		{in: "NaN", bad: true},
	}
	for _, tc := range tests {
		got, err := parseWait(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("parseWait(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// FuzzParseWait: any input gives an error or a non-negative duration, and plain seconds agree
// with strconv.
func FuzzParseWait(f *testing.F) {
	for _, s := range []string{"5", "0.5", "1m30s", "-1", "NaN", "Inf", "1e9", "9223372036s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseWait(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("parseWait(%q) = %v: negative", s, d)
		}
		if secs, perr := strconv.ParseFloat(s, 64); perr == nil {
			if diff := d.Seconds() - secs; diff > 1e-6*max(1, secs) || diff < -1e-6*max(1, secs) {
				t.Fatalf("parseWait(%q) = %v, want %v s", s, d, secs)
			}
		}
	})
}

func TestDisplayName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"with space", "with space"},
		{"ünïcödé-名前", "ünïcödé-名前"},
		{"", `""`},
		{"esc\x1b[31mred", `"esc\x1b[31mred"`},
		{"two\nlines", `"two\nlines"`},
		{"tab\there", `"tab\there"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{`"quoted"`, `"\"quoted\""`},
		{"rtl\u202eoverride", `"rtl\u202eoverride"`},
		{"nbsp\u00a0", `"nbsp\u00a0"`},
	}
	for _, tc := range tests {
		if got := displayName(tc.in); got != tc.want {
			t.Errorf("displayName(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzDisplayName: the shown form is printable UTF-8 and, when quoted, unquotes to the name.
func FuzzDisplayName(f *testing.F) {
	for _, s := range []string{"plain", "\x1b]0;title\x07", "a\nb", "\xff", `"`, "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := displayName(name)
		if !utf8.ValidString(got) {
			t.Fatalf("displayName(%q) = %q: invalid UTF-8", name, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) {
				t.Fatalf("displayName(%q) = %q: unprintable %U", name, got, r)
			}
		}
		if got == name {
			return
		}
		back, err := strconv.Unquote(got)
		if err != nil || back != name {
			t.Fatalf("displayName(%q) = %s does not unquote to the name (%v)", name, got, err)
		}
	})
}

func Example_displayName() {
	fmt.Println(displayName("orders"))
	fmt.Println(displayName("evil\x1b[2J\nforged row"))
	// Output:
	// orders
	// "evil\x1b[2J\nforged row"
}

func TestFormatVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wwly/wwly", Version: "v1.2.3"}}
	if got := formatVersion(bi); !strings.HasPrefix(got, "wwly v1.2.3 go1.26.8 ") {
		t.Errorf("release build: %q", got)
	}
	bi = &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"},
		{Key: "vcs.time", Value: "2026-11-29T16:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	if got := formatVersion(bi); !strings.HasPrefix(got, "wwly (devel) rev 0123456789ab+dirty 2026-11-29T16:00:00Z go1.26.8 ") {
		t.Errorf("dev build: %q", got)
	}
	var out, errb strings.Builder
	if code := run([]string{"--version"}, &out, &errb); code != 0 || out.String() != versionString()+"\n" {
		t.Errorf("--version: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"version"}, &out, &errb); code != 0 || out.String() != versionString()+"\n" {
		t.Errorf("version: exit %d, %q", code, out.String())
	}
}
