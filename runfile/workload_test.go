package runfile

import (
	"errors"
	"testing"
	"time"
)

func TestWorkloadValidate(t *testing.T) {
	base := func() Config {
		return Config{Backends: []string{"wwly"}, Workers: []int{8}, Locks: []int{1}, Duration: Duration(time.Second), Repeat: 1}
	}
	tests := []struct {
		name string
		edit func(*Config)
		ok   bool
	}{
		{"mutex default", func(*Config) {}, true},
		{"fanout", func(c *Config) { c.Workload, c.Rounds = WorkloadFanout, 20 }, true},
		{"rw", func(c *Config) { c.Workload, c.ReadFraction = WorkloadRW, 0.9 }, true},
		{"semaphore", func(c *Config) { c.Workload, c.Permits = WorkloadSemaphore, 4 }, true},
		{"unknown", func(c *Config) { c.Workload = "barrier" }, false},
		{"read fraction above 1", func(c *Config) { c.Workload, c.ReadFraction = WorkloadRW, 1.5 }, false},
		{"permits on rw", func(c *Config) { c.Workload, c.Permits = WorkloadRW, 4 }, false},
		{"rounds on mutex", func(c *Config) { c.Rounds = 3 }, false},
		{"fanout open loop", func(c *Config) { c.Workload, c.Rate = WorkloadFanout, 10 }, false},
		{"rw with 64 names", func(c *Config) { c.Workload, c.Locks = WorkloadRW, []int{64} }, false},
		{"parts", func(c *Config) {
			c.Parts = []Config{{Workload: WorkloadFanout, Backends: []string{"futex-bcast"}, Workers: []int{8, 64}}}
		}, true},
		{"bad part", func(c *Config) { c.Parts = []Config{{Workload: WorkloadRW, Backends: []string{"wwly"}}} }, false},
		{"nested parts", func(c *Config) {
			c.Parts = []Config{{Backends: []string{"wwly"}, Workers: []int{1}, Parts: []Config{{}}}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			err := c.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrScenario)) {
				t.Fatalf("Validate() = %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestStages(t *testing.T) {
	c := Config{Name: "p", Locks: []int{1}, Duration: Duration(time.Second), Repeat: 2, Hold: Duration(time.Millisecond),
		Parts: []Config{
			{Workload: WorkloadFanout, Backends: []string{"wwly", "futex-bcast"}, Workers: []int{8, 64}},
			{Workload: WorkloadRW, Backends: []string{"wwly"}, Workers: []int{64}, Repeat: 1},
		}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	st := c.Stages()
	if len(st) != 2 || st[0].Repeat != 2 || st[1].Repeat != 1 || st[1].Hold != c.Hold || st[0].Name != "p" {
		t.Fatalf("stages %+v", st)
	}
	if got, want := c.Cells(), 2*2*2+1; got != want {
		t.Fatalf("Cells() = %d; want %d", got, want)
	}
	if c.EffRounds() != DefaultRounds || st[1].EffReadFraction() != DefaultReadFraction {
		t.Fatalf("defaults %d %v", c.EffRounds(), st[1].EffReadFraction())
	}
}
