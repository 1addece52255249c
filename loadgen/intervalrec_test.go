package loadgen

import (
	"math/rand/v2"
	"testing"
)

func TestIntervalBucketRoundTrip(t *testing.T) {
	for _, ns := range []int64{-5, 0, 1, 255, 256, 257, 1000, 65_000, 1 << 30, 59_000_000_000} {
		b := intervalBucket(ns)
		if b < 0 || b >= intervalBuckets {
			t.Fatalf("ns=%d: bucket %d out of range", ns, b)
		}
		v := intervalBucketValue(b)
		if ns >= 256 && (float64(v-ns) > float64(ns)/128 || float64(ns-v) > float64(ns)/128) {
			t.Errorf("ns=%d: bucket %d stands for %d, more than 1/128 away", ns, b, v)
		}
		if ns >= 0 && ns < 256 && v != ns {
			t.Errorf("ns=%d: small values are exact, got %d", ns, v)
		}
		if intervalBucket(v) != b {
			t.Errorf("ns=%d: bucket(value(%d)) = %d", ns, b, intervalBucket(v))
		}
	}
}

// The recorder's intervals are what a final message carries: they validate, keep their K in
// order, and merge into a histogram with every op and a faithful median.
func TestIntervalRecMergesFaithfully(t *testing.T) {
	seed := uint64(7)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var r intervalRec
	perK := map[int]int64{}
	var ops int64
	for k := range 5 {
		if k == 2 {
			continue // an interval with no ops is left out
		}
		for range 1000 {
			r.record(k, 50_000+rng.Int64N(1_000))
			perK[k]++
			ops++
		}
	}
	iv := r.finish()
	if err := validateIntervals(iv, ops); err != nil {
		t.Fatal(err)
	}
	if len(iv) != 4 {
		t.Fatalf("%d intervals, want 4", len(iv))
	}
	h := NewHistogram()
	for _, c := range iv {
		if c.Ops != perK[c.K] {
			t.Errorf("k=%d: %d ops, want %d", c.K, c.Ops, perK[c.K])
		}
		c.AddTo(h)
	}
	if h.TotalCount() != ops {
		t.Errorf("merged %d ops, want %d", h.TotalCount(), ops)
	}
	if p50 := h.ValueAtQuantile(50); p50 < 50_000*127/128 || p50 > 51_000*129/128 {
		t.Errorf("merged p50 %d, want within 50–51 µs", p50)
	}
}

func BenchmarkIntervalRecord(b *testing.B) {
	var r intervalRec
	for i := range b.N {
		r.record(i>>16, int64(i&0xffff)*1000)
	}
}
