package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestCountsMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for v := int64(1); v <= 1000; v++ {
		Record(a, v*1000) // 1 µs .. 1 ms
		Record(b, v*1_000_000)
	}
	Record(b, 0)       // clamped up
	Record(b, 120*1e9) // clamped down to 60 s
	var one, both CountsSum
	for _, h := range []*hdrhistogram.Histogram{a, b} {
		if err := both.Add(CountsOf(h)); err != nil {
			t.Fatal(err)
		}
	}
	if err := one.Add(CountsOf(a)); err != nil {
		t.Fatal(err)
	}
	if !one.Histogram().Equals(a) {
		t.Fatal("Histogram(CountsOf(h)) != h")
	}
	m := both.Histogram()
	if got, want := m.TotalCount(), a.TotalCount()+b.TotalCount(); got != want {
		t.Fatalf("merged count %d, want %d", got, want)
	}
	ref := NewHistogram()
	for _, h := range []*hdrhistogram.Histogram{a, b} {
		if dropped := ref.Merge(h); dropped != 0 {
			t.Fatalf("reference merge dropped %d", dropped)
		}
	}
	if !m.Equals(ref) {
		t.Fatal("summed counts differ from HdrHistogram's own merge")
	}
	p := PercentilesOf(m)
	if p.P50 < 900_000 || p.P50 > 1_100_000 || p.Max < 59e9 {
		t.Fatalf("merged percentiles %+v", p)
	}
	if p.P50 > p.P90 || p.P90 > p.P99 || p.P99 > p.P999 || p.P999 > p.Max {
		t.Fatalf("percentiles not ordered: %+v", p)
	}
	if (PercentilesOf(NewHistogram()) != Percentiles{}) {
		t.Fatal("empty histogram has percentiles")
	}
	var empty CountsSum
	if CountsOf(NewHistogram()) != nil || empty.Histogram().TotalCount() != 0 {
		t.Fatal("an empty histogram's counts are not empty")
	}
}

func TestCountsRejects(t *testing.T) {
	n := int64(countsLen())
	for _, c := range []Counts{{1}, {-1, 1}, {n, 1}, {5, 0}, {5, -2}, {7, 1, 7, 1}, {9, 1, 3, 1},
		{1, 1 << 62, 2, 1 << 62}} {
		var s CountsSum
		if err := s.Add(c); !errors.Is(err, ErrHistogram) {
			t.Errorf("counts %v: err %v, want ErrHistogram", c, err)
		}
	}
}

func TestJain(t *testing.T) {
	tests := []struct {
		ops  []int64
		want float64
	}{
		{ops: []int64{5, 5, 5, 5}, want: 1},
		{ops: []int64{10, 0, 0, 0}, want: 0.25},
		{ops: []int64{0, 0}, want: 0},
		{ops: nil, want: 0},
		{ops: []int64{1, 3}, want: 0.8},
	}
	for _, tt := range tests {
		if got := Jain(tt.ops); got != tt.want {
			t.Errorf("Jain(%v) = %v, want %v", tt.ops, got, tt.want)
		}
	}
}

func FuzzCounts(f *testing.F) {
	h := NewHistogram()
	Record(h, 12345)
	Record(h, 9e9)
	f.Add([]byte(fmt.Sprint([]int64(CountsOf(h)))))
	f.Add([]byte("[]"))
	f.Add([]byte("[3 1 2 1]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Counts
		if json.Unmarshal([]byte(strings.ReplaceAll(string(b), " ", ",")), &c) != nil {
			return
		}
		var s CountsSum
		total, err := c.validate()
		if err := s.Add(c); err != nil {
			return
		}
		if err != nil || s.Histogram().TotalCount() != total {
			t.Fatalf("counts %v: accepted with total %d, histogram holds %d", c, total, s.Histogram().TotalCount())
		}
		_ = PercentilesOf(s.Histogram())
	})
}

func ExampleJain() {
	fmt.Println(Jain([]int64{100, 100, 100, 100}), Jain([]int64{400, 0, 0, 0}))
	// Output: 1 0.25
}
