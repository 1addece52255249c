package loglin

import "testing"

// Low is the start of a bucket: never above v, within 1/128 of it above 256, and in the bucket.
func TestIndexLowRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 1 << 20, 123456789, 1 << 62} {
		i := Index(v)
		lo := Low(i)
		if lo > v {
			t.Errorf("v=%d: bucket %d starts at %d, above v", v, i, lo)
		}
		if v >= 256 && float64(v-lo)/float64(v) > 1.0/128 {
			t.Errorf("v=%d: bucket start %d is more than 1/128 below", v, lo)
		}
		if Index(lo) != i {
			t.Errorf("v=%d: Index(Low(%d)) = %d", v, i, Index(lo))
		}
	}
}

// Mid stands for a bucket's values: in range, exact below 256, within 1/128 above, and in the
// bucket it stands for.
func TestIndexMidRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, 257, 1000, 65_000, 1 << 30, 59_000_000_000, 1<<64 - 1} {
		b := Index(v)
		if b < 0 || b >= Buckets {
			t.Fatalf("v=%d: bucket %d out of range", v, b)
		}
		m := Mid(b)
		if v >= 256 && (float64(m)-float64(v) > float64(v)/128 || float64(v)-float64(m) > float64(v)/128) {
			t.Errorf("v=%d: bucket %d stands for %d, more than 1/128 away", v, b, m)
		}
		if v < 256 && m != v {
			t.Errorf("v=%d: small values are exact, got %d", v, m)
		}
		if Index(m) != b {
			t.Errorf("v=%d: Index(Mid(%d)) = %d", v, b, Index(m))
		}
	}
}
