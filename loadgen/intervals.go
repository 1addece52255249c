package loadgen

// The cell's HdrHistogram interval log, from the workers' per-interval histograms.

import (
	"fmt"
	"slices"
	"time"
)

func (c *coordinator) writeHlog(measureAt, end time.Time) error {
	comment := fmt.Sprintf("wwly bench %s workers=%d locks=%d hold=%v mode=%s seed=%d: acquire latency (ns)",
		c.s.Backend, c.s.Workers, c.s.Locks, c.s.Hold, c.cell.Mode, c.s.Seed)
	lg, err := NewIntervalLog(c.o.Hlog, measureAt.UnixMilli(), c.s.Backend, comment)
	if err != nil {
		return err
	}
	ks := make([]int, 0, len(c.intervals))
	for k := range c.intervals {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		st := measureAt.Add(time.Duration(k) * c.s.Interval)
		en := st.Add(c.s.Interval)
		if en.After(end) {
			en = end
		}
		h := NewHistogram()
		for _, iv := range c.intervals[k] {
			iv.AddTo(h)
		}
		if err := lg.Write(h, st.UnixMilli(), en.UnixMilli()); err != nil {
			return err
		}
	}
	return nil
}
