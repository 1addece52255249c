package loadgen

import (
	"fmt"
	"testing"
	"time"
)

func TestPacerIntended(t *testing.T) {
	tests := []struct {
		rate float64
		i    int64
		want time.Duration
	}{
		{rate: 1000, i: 0, want: 0},
		{rate: 1000, i: 1, want: time.Millisecond},
		{rate: 1000, i: 1500, want: 1500 * time.Millisecond},
		{rate: 3, i: 1, want: 333333333},
		{rate: 3, i: 3, want: time.Second},
		{rate: 0, i: 10, want: 0},
	}
	for _, tt := range tests {
		if got := (Pacer{Rate: tt.rate}).Intended(tt.i); got != tt.want {
			t.Errorf("Pacer{%v}.Intended(%d) = %v, want %v", tt.rate, tt.i, got, tt.want)
		}
	}
}

func TestPacerPace(t *testing.T) {
	p := Pacer{Rate: 100} // one every 10ms
	tests := []struct {
		elapsed time.Duration
		issued  int64
		want    time.Duration
	}{
		{elapsed: 0, issued: 0, want: 0},
		{elapsed: 0, issued: 1, want: 10 * time.Millisecond},
		{elapsed: 4 * time.Millisecond, issued: 1, want: 6 * time.Millisecond},
		{elapsed: 10 * time.Millisecond, issued: 1, want: 0},
		{elapsed: 95 * time.Millisecond, issued: 3, want: 0}, // behind: fire now, never sleep
		{elapsed: 95 * time.Millisecond, issued: 10, want: 5 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := p.Pace(tt.elapsed, tt.issued); got != tt.want {
			t.Errorf("Pace(%v, %d) = %v, want %v", tt.elapsed, tt.issued, got, tt.want)
		}
	}
	if got := (Pacer{}).Pace(time.Second, 5); got != 0 {
		t.Errorf("zero-rate Pace = %v, want 0", got)
	}
}

func TestPacerDueMatchesIntended(t *testing.T) {
	for _, rate := range []float64{1, 3, 7.5, 100, 12345} {
		p := Pacer{Rate: rate}
		for _, el := range []time.Duration{0, 1, time.Millisecond, 333333333, time.Second, 2500 * time.Millisecond} {
			n := p.Due(el)
			if n > 0 && p.Intended(n-1) > el {
				t.Errorf("rate %v el %v: Due=%d but op %d is due at %v", rate, el, n, n-1, p.Intended(n-1))
			}
			if p.Intended(n) <= el {
				t.Errorf("rate %v el %v: Due=%d but op %d is due at %v too", rate, el, n, n, p.Intended(n))
			}
		}
	}
}

// The pacer plans a constant rate: over one second at 50/s exactly 50 operations fall due.
func ExamplePacer() {
	p := Pacer{Rate: 50}
	fmt.Println(p.Due(time.Second-1), p.Intended(49), p.Pace(5*time.Millisecond, 1))
	// Output: 50 980ms 15ms
}
