package main

import "math/bits"

// hist is a log-linear latency histogram in nanoseconds: exact below 256 ns, then 128 buckets per
// power of two (under 0.8 % relative error), as HdrHistogram with 2–3 significant digits but in a
// fixed array, so recording is a few instructions and never allocates.
type hist [64 * subBuckets]uint64

const subBuckets = 128

// index of v's bucket: v itself below 256, else 128 buckets per doubling.
func index(v uint64) int {
	shift := max(bits.Len64(v)-8, 0)
	return shift*subBuckets + int(v>>shift)
}

// lowest value in bucket i (the inverse of index at a bucket's start).
func lowest(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i)
	}
	shift := i/subBuckets - 1
	return uint64(i-shift*subBuckets) << shift
}

func (h *hist) record(ns int64) { h[index(uint64(max(ns, 0)))]++ }

func (h *hist) total() uint64 {
	var n uint64
	for _, c := range h {
		n += c
	}
	return n
}

// quantile is the lowest value of the bucket holding the q-th fraction of the counts.
func (h *hist) quantile(q float64) uint64 {
	n := h.total()
	if n == 0 {
		return 0
	}
	rank := uint64(q * float64(n))
	if rank >= n {
		rank = n - 1
	}
	var seen uint64
	for i, c := range h {
		seen += c
		if seen > rank {
			return lowest(i)
		}
	}
	return 0
}
