package reports

import (
	"bufio"
	"fmt"
	"io"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Units for WriteHgrm's valueScale: nanosecond recordings divided by these print in µs or ms.
const (
	Micros = 1e3
	Millis = 1e6
)

// HgrmTicksPerHalfDistance is the percentile resolution of .hgrm files, the HdrHistogram
// default: 5 reporting steps each time the distance to 100% halves.
const HgrmTicksPerHalfDistance = 5

// WriteHgrm writes h as HdrHistogram's classic percentile distribution text (the format of
// Java's outputPercentileDistribution and HistogramLogProcessor), which HdrHistogram's online
// plotter reads: "Value Percentile TotalCount 1/(1-Percentile)" rows, then the
// Mean/StdDeviation/Max/Total count/Buckets/SubBuckets footer. Values are divided by
// valueScale (Micros for ns recordings printed in µs) and printed with as many decimals as the
// histogram has significant digits.
//
// It does not use hdrhistogram-go's PercentilesPrint, which rounds percentiles to 6 decimals
// (losing the tail beyond 99.9999%) and prints "inf" on the last row where the Java tools
// print nothing; nor its CumulativeDistributionWithTicks, which never returns for some
// histograms (see percentileSteps). The rows are the same as the library's otherwise.
func WriteHgrm(w io.Writer, h *hdrhistogram.Histogram, valueScale float64) error {
	if valueScale <= 0 {
		return fmt.Errorf("reports: hgrm value scale must be positive, got %v", valueScale)
	}
	bw := bufio.NewWriter(w)
	sig := h.SignificantFigures()
	fmt.Fprintf(bw, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")
	if h.TotalCount() > 0 {
		for _, b := range percentileSteps(h, HgrmTicksPerHalfDistance) {
			v := float64(b.ValueAt) / valueScale
			q := b.Quantile / 100
			if b.Quantile >= 100 {
				fmt.Fprintf(bw, "%12.*f %2.12f %10d\n", sig, v, 1.0, b.Count)
				continue
			}
			fmt.Fprintf(bw, "%12.*f %2.12f %10d %14.2f\n", sig, v, q, b.Count, 1/(1-q))
		}
	}
	buckets, subBuckets := geometry(h)
	fmt.Fprintf(bw, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", sig, h.Mean()/valueScale, sig, h.StdDev()/valueScale)
	fmt.Fprintf(bw, "#[Max     = %12.*f, Total count    = %12d]\n", sig, float64(h.Max())/valueScale, h.TotalCount())
	fmt.Fprintf(bw, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, subBuckets)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: writing hgrm: %w", err)
	}
	return nil
}

// maxPercentileSteps bounds the rows of one percentile distribution; real histograms give a
// few hundred.
const maxPercentileSteps = 10_000

// percentileSteps walks h the way HdrHistogram's percentile iterator does: reporting levels
// start at 0% and advance by 100/(ticks·2^k) where 2^k grows as the distance to 100% halves,
// each level reporting the highest value equivalent to the bucket that reaches it; a final
// row at 100% holds the maximum. hdrhistogram-go's own iterator (CumulativeDistributionWithTicks)
// loops forever once the step falls below float64 resolution, which a histogram with a huge
// total count reaches (found by FuzzReadHlog); this one stops there, and after
// maxPercentileSteps rows.
func percentileSteps(h *hdrhistogram.Histogram, ticksPerHalfDistance int32) []hdrhistogram.Bracket {
	total := h.TotalCount()
	if total <= 0 || ticksPerHalfDistance <= 0 {
		return nil
	}
	var out []hdrhistogram.Bracket
	level := 0.0
	var countTo, lastValue int64
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		countTo += bar.Count
		lastValue = bar.To
		reached := 100 * float64(countTo) / float64(total)
		for level <= reached && len(out) < maxPercentileSteps {
			out = append(out, hdrhistogram.Bracket{Quantile: level, Count: countTo, ValueAt: bar.To})
			if countTo >= total {
				break // the library reports one level in the last bucket, then 100%
			}
			halfDistance := math.Trunc(math.Pow(2, math.Trunc(math.Log2(100/(100-level)))+1))
			next := level + 100/(float64(ticksPerHalfDistance)*halfDistance)
			if !(next > level) || next >= 100 {
				level = math.Inf(1) // no representable level left below 100%
				break
			}
			level = next
		}
		if countTo >= total || len(out) >= maxPercentileSteps {
			break
		}
	}
	return append(out, hdrhistogram.Bracket{Quantile: 100, Count: total, ValueAt: lastValue})
}

// geometry recomputes the histogram's bucket and sub-bucket counts, which hdrhistogram-go
// does not export, from its public parameters with the HdrHistogram formulas: sub-buckets are
// the power of two that gives unit resolution up to 2×10^digits, and buckets double the
// covered range until the highest trackable value fits.
func geometry(h *hdrhistogram.Histogram) (buckets, subBuckets int64) {
	sig := h.SignificantFigures()
	largestSingleUnit := 2 * math.Pow10(int(sig))
	subBucketCountMag := int64(math.Ceil(math.Log2(largestSingleUnit)))
	halfMag := max(subBucketCountMag, 1) - 1
	subBuckets = int64(1) << (halfMag + 1)
	lowest := max(h.LowestTrackableValue(), 1)
	unitMag := int64(math.Floor(math.Log2(float64(lowest))))
	smallestUntrackable := subBuckets << unitMag
	buckets = 1
	for smallestUntrackable <= h.HighestTrackableValue() {
		if smallestUntrackable > math.MaxInt64/2 {
			return buckets + 1, subBuckets
		}
		smallestUntrackable <<= 1
		buckets++
	}
	return buckets, subBuckets
}
