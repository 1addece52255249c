package gate

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSignRankCDFCriticalValues checks the exact distribution against the published table of
// one-sided critical values T (reject when W <= T): P(W <= T) <= alpha < P(W <= T+1).
// Source: the standard Wilcoxon signed-rank table (e.g. Zar, Biostatistical Analysis, Table B.12).
// Rows stop at n = 20: printed tables disagree by one at n >= 25, where some were built from the
// normal approximation (e.g. n=25, alpha=0.05 is printed as 101; the exact value is 100).
func TestSignRankCDFCriticalValues(t *testing.T) {
	alphas := []float64{0.05, 0.025, 0.01, 0.005}
	table := []struct {
		n    int
		crit [4]int // -1: no critical value exists at that alpha
	}{
		{5, [4]int{0, -1, -1, -1}},
		{6, [4]int{2, 0, -1, -1}},
		{7, [4]int{3, 2, 0, -1}},
		{8, [4]int{5, 3, 1, 0}},
		{9, [4]int{8, 5, 3, 1}},
		{10, [4]int{10, 8, 5, 3}},
		{11, [4]int{13, 10, 7, 5}},
		{12, [4]int{17, 13, 9, 7}},
		{13, [4]int{21, 17, 12, 9}},
		{14, [4]int{25, 21, 15, 12}},
		{15, [4]int{30, 25, 19, 15}},
		{20, [4]int{60, 52, 43, 37}},
	}
	for _, row := range table {
		for i, a := range alphas {
			crit := row.crit[i]
			t.Run(fmt.Sprintf("n=%d/alpha=%v", row.n, a), func(t *testing.T) {
				if got := SignRankCDF(row.n, crit); got > a {
					t.Errorf("P(W<=%d) = %.5f > %v", crit, got, a)
				}
				if got := SignRankCDF(row.n, crit+1); got <= a {
					t.Errorf("P(W<=%d) = %.5f <= %v: table value too small", crit+1, got, a)
				}
			})
		}
	}
}

// TestSignRankCDFKnown pins a few values computed by hand (count subsets of {1..n} summing <= w).
func TestSignRankCDFKnown(t *testing.T) {
	for _, tc := range []struct {
		n, w int
		want float64
	}{
		{5, 0, 1.0 / 32},
		{7, 0, 1.0 / 128},
		{10, 5, 10.0 / 1024}, // sums 0,1,2,3,3,4,4,5,5,5
		{3, 6, 1},
		{3, 2, 3.0 / 8}, // {}, {1}, {2}
		{4, -1, 0},
	} {
		if got := SignRankCDF(tc.n, tc.w); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("SignRankCDF(%d,%d) = %v, want %v", tc.n, tc.w, got, tc.want)
		}
	}
}

// bruteUpperTail enumerates all 2^n sign patterns of the given doubled ranks.
func bruteUpperTail(rank2 []int, w2 int) float64 {
	n := len(rank2)
	hits := 0
	for mask := 0; mask < 1<<n; mask++ {
		s := 0
		for i, r := range rank2 {
			if mask&(1<<i) != 0 {
				s += r
			}
		}
		if s >= w2 {
			hits++
		}
	}
	return float64(hits) / float64(int(1)<<n)
}

func TestWilcoxonGreater(t *testing.T) {
	tests := []struct {
		name      string
		d         []float64
		wantN     int
		wantWPlus float64
		wantP     float64
		exact     bool
	}{
		{"all positive n=7", []float64{1, 2, 3, 4, 5, 6, 7}, 7, 28, 1.0 / 128, true},
		{"all positive n=6 cannot reach 0.01", []float64{.1, .2, .3, .4, .5, .6}, 6, 21, 1.0 / 64, true},
		{"all negative", []float64{-1, -2, -3}, 3, 0, 1, true},
		{"zeros dropped", []float64{0, 0, 1, 2, 3}, 3, 6, 1.0 / 8, true},
		// |d| = 1,1,2: midranks 1.5,1.5,3; W+ = 1.5+3 = 4.5; sign patterns with doubled sum >= 9:
		// {3,3,6} subsets: 12, 9 (3+6), 9 (3+6) -> 3/8.
		{"ties get midranks", []float64{1, -1, 2}, 3, 4.5, 3.0 / 8, true},
		// Smallest rank negative, n=8: W+ = 36-1 = 35; P(W+ >= 35) = 2/256.
		{"n=8 one small negative", []float64{-0.01, .2, .3, .4, .5, .6, .7, .8}, 8, 35, 2.0 / 256, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := WilcoxonGreater(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if r.N != tc.wantN || r.WPlus != tc.wantWPlus || r.Exact != tc.exact {
				t.Errorf("got N=%d W+=%v exact=%v, want %d %v %v", r.N, r.WPlus, r.Exact, tc.wantN, tc.wantWPlus, tc.exact)
			}
			if math.Abs(r.P-tc.wantP) > 1e-12 {
				t.Errorf("p = %v, want %v", r.P, tc.wantP)
			}
		})
	}
}

func TestWilcoxonErrors(t *testing.T) {
	if _, err := WilcoxonGreater(nil); !errors.Is(err, ErrNoData) {
		t.Errorf("nil: %v", err)
	}
	if _, err := WilcoxonGreater([]float64{0, 0}); !errors.Is(err, ErrNoData) {
		t.Errorf("zeros: %v", err)
	}
	if _, err := WilcoxonGreater([]float64{1, math.NaN()}); !errors.Is(err, ErrBadInput) {
		t.Errorf("NaN: %v", err)
	}
}

// TestWilcoxonExactMatchesBrute compares the DP with enumeration on random data with ties.
func TestWilcoxonExactMatchesBrute(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		n := 1 + rng.IntN(12)
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(rng.IntN(9) - 4) // small integers: many ties and zeros
		}
		r, err := WilcoxonGreater(d)
		if errors.Is(err, ErrNoData) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var nz []float64
		for _, x := range d {
			if x != 0 {
				nz = append(nz, x)
			}
		}
		rank2, _ := doubledRanks(nz)
		if want := bruteUpperTail(rank2, int(2*r.WPlus)); math.Abs(r.P-want) > 1e-12 {
			t.Fatalf("d=%v: p=%v, brute %v", d, r.P, want)
		}
	}
}

// TestWilcoxonNormalApprox checks that above ExactMaxN the approximation is close to the exact tail.
func TestWilcoxonNormalApprox(t *testing.T) {
	n := 30
	for _, w := range []int{120, 152, 200, 232} {
		// Build untied differences whose W+ equals w: greedily pick positive ranks from the top.
		d := make([]float64, n)
		rem := w
		for r := n; r >= 1; r-- {
			d[r-1] = -float64(r)
			if rem >= r {
				d[r-1] = float64(r)
				rem -= r
			}
		}
		res, err := WilcoxonGreater(d)
		if err != nil {
			t.Fatal(err)
		}
		if res.Exact || res.WPlus != float64(w) {
			t.Fatalf("w=%d: exact=%v W+=%v", w, res.Exact, res.WPlus)
		}
		exact := 1 - SignRankCDF(n, w-1)
		if math.Abs(res.P-exact) > 0.003 {
			t.Errorf("w=%d: normal p=%.5f, exact %.5f", w, res.P, exact)
		}
	}
}

func TestBootstrapMedianCI(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	lo, hi, err := BootstrapMedianCI(x, 0.95, 2000, rng)
	if err != nil {
		t.Fatal(err)
	}
	if !(lo < 6 && hi > 6 && lo >= 1 && hi <= 11) {
		t.Errorf("CI [%v, %v] does not bracket the median 6 inside the data range", lo, hi)
	}
	// Constant data: a degenerate interval at the value.
	lo, hi, err = BootstrapMedianCI([]float64{2, 2, 2}, 0.95, 100, rng)
	if err != nil || lo != 2 || hi != 2 {
		t.Errorf("constant: [%v, %v] %v", lo, hi, err)
	}
	if _, _, err := BootstrapMedianCI(nil, 0.95, 100, rng); !errors.Is(err, ErrNoData) {
		t.Errorf("empty: %v", err)
	}
	if _, _, err := BootstrapMedianCI(x, 1.5, 100, rng); !errors.Is(err, ErrBadInput) {
		t.Errorf("level: %v", err)
	}
}

func TestComparePaired(t *testing.T) {
	shift := func(n int, ratio, jitter float64, seed uint64) []float64 {
		rng := rand.New(rand.NewPCG(seed, 1))
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Log(ratio) + jitter*(rng.Float64()*2-1)
		}
		return out
	}
	c := DefaultCriteria()
	tests := []struct {
		name  string
		lr    []float64
		gated bool
		want  Verdict
	}{
		{"equal", shift(8, 1, 0.05, 1), true, Pass},
		{"20% slower, tight", shift(8, 1.2, 0.03, 2), true, Regression},
		{"20% slower but n=6 cannot reach p<0.01", shift(6, 1.2, 0.03, 3), true, Pass},
		{"5% slower: below threshold", shift(12, 1.05, 0.01, 4), true, Pass},
		{"20% slower, ungated", shift(8, 1.2, 0.03, 5), false, Info},
		{"faster", shift(8, 0.7, 0.03, 6), true, Pass},
		{"all identical", []float64{0, 0, 0, 0, 0, 0, 0, 0}, true, Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ComparePaired(tc.lr, c, tc.gated, rand.New(rand.NewPCG(42, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if got.Verdict != tc.want {
				t.Errorf("verdict %s (%s), want %s; %+v", got.Verdict, got.Why, tc.want, got)
			}
		})
	}
}

func TestCriteriaValidate(t *testing.T) {
	if err := DefaultCriteria().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*Criteria){
		func(c *Criteria) { c.Alpha = 0 },
		func(c *Criteria) { c.Threshold = -1 },
		func(c *Criteria) { c.CILevel = 1 },
		func(c *Criteria) { c.Bootstrap = 5 },
	} {
		c := DefaultCriteria()
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrBadInput) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestCompareRatio(t *testing.T) {
	for _, tc := range []struct {
		ratio float64
		gated bool
		want  Verdict
	}{
		{1.0, true, Pass}, {1.09, true, Pass}, {1.10, true, Regression}, {1.5, false, Info}, {math.NaN(), true, Pass},
	} {
		if got, why := CompareRatio(tc.ratio, 0.10, tc.gated); got != tc.want {
			t.Errorf("ratio %v: %s (%s), want %s", tc.ratio, got, why, tc.want)
		}
	}
}

func ExampleWilcoxonGreater() {
	// Eight pairs, the candidate slower in all but the closest one.
	r, _ := WilcoxonGreater([]float64{-0.01, .2, .3, .4, .5, .6, .7, .8})
	fmt.Printf("n=%d W+=%v p=%.4f exact=%v min p=%.4f\n", r.N, r.WPlus, r.P, r.Exact, r.MinP)
	// Output: n=8 W+=35 p=0.0078 exact=true min p=0.0039
}
