package benchtest_test

import (
	"testing"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/bench/benchtest"
)

func TestCheckTokens(t *testing.T) {
	tests := []struct {
		name    string
		history []uint64
		ok      bool
	}{
		{"empty", nil, true},
		{"one", []uint64{7}, true},
		{"rising with gaps", []uint64{1, 2, 5, 90}, true},
		{"zero", []uint64{0, 1}, false},
		{"repeat", []uint64{1, 2, 2}, false},
		{"falls", []uint64{3, 4, 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := benchtest.CheckTokens(tt.history); (err == nil) != tt.ok {
				t.Errorf("CheckTokens(%v) = %v; want ok=%v", tt.history, err, tt.ok)
			}
		})
	}
}

// TestRunFutex runs the whole suite against the cheapest real lock, so this package's own tests
// cover every check.
func TestRunFutex(t *testing.T) {
	b, err := bench.Lookup("futex-fifo")
	if err != nil {
		t.Fatal(err)
	}
	benchtest.Run(t, b, bench.StartOptions{})
}

// A backend's test runs the suite against a real server its Start launches.
func ExampleRun() {
	_ = func(t *testing.T) {
		b, err := bench.Lookup("redislock")
		if err != nil {
			t.Fatal(err)
		}
		benchtest.Run(t, b, bench.StartOptions{}) // skipped when redis-server is missing
	}
}
