package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wwly/wwly/gate"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden and the exit-code table in README.md")

// TestExitCodeTable: one row per code, in order, and the harness's codes are the table's.
func TestExitCodeTable(t *testing.T) {
	seen := map[int]bool{}
	last := -1
	for _, c := range exitCodes {
		if c.code == -1 {
			continue
		}
		if seen[c.code] || c.code < last {
			t.Errorf("code %d (%s) repeated or out of order", c.code, c.name)
		}
		seen[c.code], last = true, c.code
	}
	for name, pair := range map[string][2]int{
		"gate pass":       {gate.ExitPass, exitOK},
		"gate regression": {gate.ExitRegression, exitRegression},
		"gate error":      {gate.ExitError, exitFailed},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s: gate says %d, the table %d", name, pair[0], pair[1])
		}
	}
}

// TestExitCodesInREADME: the README's table is the one in the code.
func TestExitCodesInREADME(t *testing.T) {
	const begin, end = "<!-- exit-codes:begin -->\n", "<!-- exit-codes:end -->"
	path := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q block", begin, end)
	}
	want := exitCodesMarkdown()
	if got := s[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md exit-code table differs from the code (go test ./cmd/wwly -run ExitCodesInREADME -update):\n%s", want)
	}
}

// TestCLIErrors runs wwly in-process on command lines that fail before or without a server and
// compares status and stderr with testdata/errors.golden: one line, no repeated prefixes, no
// internal codes, a hint where one helps.
func TestCLIErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	t.Setenv("WWLY_ADDR", refused)
	t.Setenv("WWLY_AUTH_TOKEN", "")
	long := strings.Repeat("n", 300)
	cases := [][]string{
		{"bogus"},
		{"--bogus"},
		{"lock"},
		{"lock", "--bogus", "n", "--", "true"},
		{"lock", "n", "true"},
		{"lock", "--", "true"},
		{"lock", "a", "b", "--", "true"},
		{"lock", "n", "--"},
		{"lock", "", "--", "true"},
		{"lock", long, "--", "true"},
		{"lock", "-w", "soon", "n"},
		{"lock", "-w", "-1", "n"},
		{"lock", "-n", "-w", "1", "n"},
		{"lock", "-w", "1", "--timeout", "1s", "n"},
		{"lock", "-E", "256", "n"},
		{"lock", "n", "--", "wwly-no-such-command"},
		{"lock", "n", "--", "/"},
		{"lock", "n", "--", "true"},
		{"lock", "--auth-token-file", "/nonexistent/token", "n", "--", "true"},
		{"lock", "--addr", " , ", "n", "--", "true"},
		{"lock", "--addr", refused + ",127.0.0.1:1", "n", "--", "true"},
		{"status", ""},
		{"status", long},
		{"status", "--json", "--bogus"},
		{"status"},
		{"report", "a", "b"},
		{"version", "extra"},
	}
	var out bytes.Buffer
	for _, args := range cases {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		shown := make([]string, len(args))
		for i, a := range args {
			shown[i] = a
			if a == "" || strings.ContainsAny(a, " ,") {
				shown[i] = strconv.Quote(a)
			}
		}
		fmt.Fprintf(&out, "$ wwly %s\nexit %d\n%s\n", strings.Join(shown, " "), code, stderr.String())
	}
	got := strings.ReplaceAll(out.String(), refused, "ADDR")
	got = strings.ReplaceAll(got, long, "n×300")
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("stderr differs from %s (-update rewrites it):\n%s", golden, got)
	}
	for _, line := range strings.Split(got, "\n") {
		if strings.Count(line, "wwly:") > 1 || strings.Contains(line, "(code ") {
			t.Errorf("repeated prefix or internal code in %q", line)
		}
	}
}
