package loadgen

import (
	"fmt"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestHistogramEncodeMerge(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	for v := int64(1); v <= 1000; v++ {
		Record(a, v*1000) // 1 µs .. 1 ms
		Record(b, v*1_000_000)
	}
	Record(b, 0)       // clamped up
	Record(b, 120*1e9) // clamped down to 60 s
	sa, err := EncodeHistogram(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := EncodeHistogram(b)
	if err != nil {
		t.Fatal(err)
	}
	da, err := DecodeHistogram(sa)
	if err != nil {
		t.Fatal(err)
	}
	db, err := DecodeHistogram(sb)
	if err != nil {
		t.Fatal(err)
	}
	if !da.Equals(a) || !db.Equals(b) {
		t.Fatal("decode(encode(h)) != h")
	}
	m := NewHistogram()
	for _, h := range []*hdrhistogram.Histogram{da, db} {
		if err := MergeInto(m, h); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := m.TotalCount(), a.TotalCount()+b.TotalCount(); got != want {
		t.Fatalf("merged count %d, want %d", got, want)
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
	empty, err := DecodeHistogram("")
	if err != nil || empty.TotalCount() != 0 {
		t.Fatalf("empty string: %v %v", empty, err)
	}
}

func TestMergeIntoRefusesToDrop(t *testing.T) {
	wide := hdrhistogram.New(1, 3600e9, 3)
	_ = wide.RecordValue(3000e9)
	if err := MergeInto(NewHistogram(), wide); err == nil {
		t.Fatal("merge dropped a value silently")
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

func FuzzDecodeHistogram(f *testing.F) {
	h := NewHistogram()
	Record(h, 12345)
	s, _ := EncodeHistogram(h)
	f.Add(s)
	f.Add("")
	f.Add("HISTFAAAAB")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := DecodeHistogram(s)
		if err == nil {
			_ = PercentilesOf(h)
			_ = MergeInto(NewHistogram(), h)
		}
	})
}

func ExampleJain() {
	fmt.Println(Jain([]int64{100, 100, 100, 100}), Jain([]int64{400, 0, 0, 0}))
	// Output: 1 0.25
}
