package main

import "github.com/wwly/wwly/internal/loglin"

// hist is a latency histogram in nanoseconds on package loglin's buckets (exact below 256 ns, then
// 128 per power of two: under 0.8 % relative error) in a fixed array, so recording is a few
// instructions and never allocates.
type hist [loglin.Buckets]uint64

func (h *hist) record(ns int64) { h[loglin.Index(uint64(max(ns, 0)))]++ }

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
			return loglin.Low(i)
		}
	}
	return 0
}
