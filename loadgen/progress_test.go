package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestLineReporter(t *testing.T) {
	var out bytes.Buffer
	r := NewReporter(&out) // not a terminal: plain lines
	p := r.Cell("flock W=200 L=1")
	p.Phase("spawning 200 workers", 200)
	for i := 1; i <= 200; i++ {
		p.Progress(i)
	}
	p.Phase("measuring", 0)
	p.Rate(123456, 1500*time.Millisecond)
	p.Done()
	r.Logf("done %d", 1)
	r.Close()
	got := out.String()
	for _, want := range []string{"20/200 after", "180/200 after", "200 done in", "measuring", "123.5k ops/s", "done 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 13 {
		t.Errorf("%d lines, want 13:\n%s", n, got)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatCount(999), "999"},
		{FormatCount(12345), "12.3k"},
		{FormatCount(2.5e6), "2.50M"},
		{FormatNs(850), "<1µs"},
		{FormatNs(1), "<1µs"},
		{FormatNs(0), "0"},
		{FormatNs(-5), "0"},
		{FormatNs(1_000), "1µs"},
		{FormatNs(12_300), "12.3µs"},
		{FormatNs(182_345), "182µs"},
		{FormatNs(999_600), "1ms"},
		{FormatNs(4_560_000), "4.56ms"},
		{FormatNs(10_000_000), "10ms"},
		{FormatNs(1_200_000_000), "1.2s"},
		{FormatNs(75_000_000_000), "75s"},
		{FormatBytes(3 << 20), "3.0MiB"},
		{FormatBytes(512 << 10), "512KiB"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
