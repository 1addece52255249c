package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wwly/wwly/runfile"
)

// ErrScenario marks a scenario file or override that does not make sense.
var ErrScenario = runfile.ErrScenario

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
