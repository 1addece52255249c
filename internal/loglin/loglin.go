// Package loglin is the log-linear bucket scheme two latency recorders share: the harness's
// per-interval counts (loadgen) and the harness-free floor program (cmd/futexfloor). Exact below
// 2×Sub, then Sub buckets per power of two: under 0.8 % relative error, and recording is an array
// increment that never allocates.
package loglin

import "math/bits"

const (
	// Sub is the number of buckets per power of two.
	Sub = 128
	// Buckets is the number of buckets that covers every uint64.
	Buckets = 64 * Sub
)

// Index is v's bucket: v itself below 2×Sub, else Sub buckets per doubling.
func Index(v uint64) int {
	shift := max(bits.Len64(v)-8, 0)
	return shift*Sub + int(v>>shift)
}

// Low is the lowest value in bucket i (the inverse of Index at a bucket's start).
func Low(i int) uint64 {
	if i < 2*Sub {
		return uint64(i)
	}
	shift := i/Sub - 1
	return uint64(i-shift*Sub) << shift
}

// Mid is the middle of bucket i, the value a bucket's counts stand for.
func Mid(i int) uint64 {
	if i < 2*Sub {
		return uint64(i)
	}
	shift := i/Sub - 1
	return Low(i) + (uint64(1)<<shift)/2
}
