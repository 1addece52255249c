package main

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestQuantileAgainstSort(t *testing.T) {
	seed := uint64(42)
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	var h hist
	vals := make([]int64, 100_000)
	for i := range vals {
		vals[i] = int64(rng.ExpFloat64() * 50_000)
		h.record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := float64(vals[int(q*float64(len(vals)))])
		got := float64(h.quantile(q))
		if got > want || got < want*(1-1.0/64) {
			t.Errorf("q=%v: got %v, sorted says %v", q, got, want)
		}
	}
}
