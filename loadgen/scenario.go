package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrScenario marks a scenario file or override that does not make sense.
var ErrScenario = errors.New("loadgen: scenario")

// LoadScenario reads a scenario YAML file. Unknown keys are errors (a typo must not silently
// fall back to a default).
func LoadScenario(path string) (Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	s, err := ParseScenario(b)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ParseScenario decodes scenario YAML strictly.
func ParseScenario(b []byte) (Scenario, error) {
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Scenario{}, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return s, nil
}

// DefaultScenario is what `wwly bench` runs with no --scenario: a short look at every backend.
func DefaultScenario() Scenario {
	return Scenario{
		Name:     "default",
		Backends: []string{"wwly", "flock", "none"},
		Workers:  []int{1, 8},
		Locks:    []int{1},
		Duration: Duration(2 * time.Second),
		Warmup:   Duration(500 * time.Millisecond),
		Repeat:   1,
	}
}

// Validate reports the first problem with s, precisely.
func (s *Scenario) Validate() error {
	switch {
	case len(s.Backends) == 0:
		return fmt.Errorf("%w: no backends", ErrScenario)
	case len(s.Workers) == 0:
		return fmt.Errorf("%w: no worker counts", ErrScenario)
	case len(s.Locks) == 0:
		return fmt.Errorf("%w: no lock counts", ErrScenario)
	case s.Duration <= 0:
		return fmt.Errorf("%w: duration must be > 0", ErrScenario)
	case s.Hold < 0 || s.Warmup < 0:
		return fmt.Errorf("%w: hold and warmup must be >= 0", ErrScenario)
	case s.Rate < 0:
		return fmt.Errorf("%w: rate %v must be >= 0", ErrScenario, s.Rate)
	case s.Repeat < 1:
		return fmt.Errorf("%w: repeat %d must be >= 1", ErrScenario, s.Repeat)
	}
	for _, w := range s.Workers {
		if w < 1 {
			return fmt.Errorf("%w: workers %d must be >= 1", ErrScenario, w)
		}
	}
	for _, l := range s.Locks {
		if l < 1 {
			return fmt.Errorf("%w: locks %d must be >= 1", ErrScenario, l)
		}
	}
	seen := map[string]bool{}
	for _, b := range s.Backends {
		if seen[b] {
			return fmt.Errorf("%w: backend %q listed twice", ErrScenario, b)
		}
		seen[b] = true
	}
	return nil
}

// Cells is the number of cells the scenario measures.
func (s *Scenario) Cells() int {
	return len(s.Backends) * len(s.Workers) * len(s.Locks) * max(s.Repeat, 1)
}

// Estimate is a lower bound of the run's wall time: warm-up plus window per cell.
func (s *Scenario) Estimate() time.Duration {
	return time.Duration(s.Cells()) * (s.Warmup.Std() + s.Duration.Std())
}

// ParseIntList reads "1,8,64".
func ParseIntList(v string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: %q is not a positive integer", ErrScenario, f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: empty list %q", ErrScenario, v)
	}
	return out, nil
}

// ParseNameList reads "wwly,flock".
func ParseNameList(v string) []string {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
