package units

import (
	"fmt"
	"math"
	"testing"
)

func TestLatency(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{-5, "0"},
		{0, "0"},
		{1, "<1µs"},
		{511, "<1µs"},
		{999, "<1µs"},
		{1_000, "1µs"},
		{1_023, "1.02µs"},
		{12_300, "12.3µs"},
		{182_345, "182µs"},
		{999_499, "999µs"},
		{999_600, "1ms"},
		{4_560_000, "4.56ms"},
		{10_000_000, "10ms"},
		{999_999_999, "1s"},
		{1_200_000_000, "1.2s"},
		{75_000_000_000, "75s"},
	}
	for _, tt := range tests {
		if got := Latency(tt.ns); got != tt.want {
			t.Errorf("Latency(%d) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

func TestLatencyFloat(t *testing.T) {
	tests := []struct {
		ns   float64
		want string
	}{
		{math.NaN(), "-"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "0"},
		{850.4, "<1µs"},
		{151_000.4, "151µs"},
		{2.5e9, "2.5s"},
	}
	for _, tt := range tests {
		if got := LatencyFloat(tt.ns); got != tt.want {
			t.Errorf("LatencyFloat(%v) = %q, want %q", tt.ns, got, tt.want)
		}
	}
}

// Every value from 1 ns to a minute formats without an exponent and with at most three
// significant digits.
func TestLatencyShape(t *testing.T) {
	for ns := int64(1); ns < 60e9; ns = ns*13/10 + 1 {
		s := Latency(ns)
		digits := 0
		for _, r := range s {
			switch {
			case r == 'e' || r == '+':
				t.Fatalf("Latency(%d) = %q has an exponent", ns, s)
			case r >= '0' && r <= '9':
				digits++
			}
		}
		if s != "<1µs" && digits > 3 {
			t.Errorf("Latency(%d) = %q has %d digits", ns, s, digits)
		}
	}
}

func ExampleLatency() {
	for _, ns := range []int64{850, 12_345, 999_600, 4_560_000, 1_200_000_000} {
		fmt.Println(Latency(ns))
	}
	// Output:
	// <1µs
	// 12.3µs
	// 1ms
	// 4.56ms
	// 1.2s
}
