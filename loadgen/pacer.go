package loadgen

import (
	"math"
	"time"
)

// Pacer decides when open-loop operations are due. It is a pure value: no clock, no state;
// the caller passes the elapsed time and the count of operations already issued.
//
// Operations are due at a constant rate: operation i (0-based) is intended to start at
// Intended(i) after the start. Latency in open loop is measured from that intended start, so a
// slow response delays the measurement of every later operation too (no coordinated omission).
type Pacer struct {
	Rate float64 // operations per second; must be > 0
}

// Intended returns the offset from the start at which operation i is due.
func (p Pacer) Intended(i int64) time.Duration {
	if p.Rate <= 0 || i <= 0 {
		return 0
	}
	return time.Duration(math.Round(float64(i) * float64(time.Second) / p.Rate))
}

// Pace returns how long to wait, at elapsed time since the start, before issuing the next
// operation when issued operations have already gone out. A zero wait means the next one is due
// now (or overdue: the caller is behind and must not sleep).
func (p Pacer) Pace(elapsed time.Duration, issued int64) time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	due := p.Intended(issued)
	if due <= elapsed {
		return 0
	}
	return due - elapsed
}

// Due returns how many operations are due by elapsed (the ones with Intended(i) <= elapsed).
func (p Pacer) Due(elapsed time.Duration) int64 {
	if p.Rate <= 0 || elapsed < 0 {
		return 0
	}
	n := int64(math.Floor(elapsed.Seconds()*p.Rate)) + 1
	// Float rounding can put the boundary one off; settle it with Intended, which defines it.
	for n > 0 && p.Intended(n-1) > elapsed {
		n--
	}
	for p.Intended(n) <= elapsed {
		n++
	}
	return n
}
