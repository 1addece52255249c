package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/wwly/wwly/bench/scenarios"
	"github.com/wwly/wwly/runfile"
)

// ErrScenario marks a scenario file or override that does not make sense.
var ErrScenario = runfile.ErrScenario

// LoadScenario reads a scenario: the YAML file at arg when one exists there, else the scenario
// embedded in the binary under that name ("quick", "quick.yaml", or the repository path
// "bench/scenarios/quick.yaml" run from elsewhere). Unknown keys are errors (a typo must not
// silently fall back to a default). A scenario found neither way is an ErrScenario that lists
// the embedded names.
func LoadScenario(arg string) (Scenario, error) {
	b, err := scenarioBytes(arg)
	if err != nil {
		return Scenario{}, err
	}
	s, err := ParseScenario(b)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", arg, err)
	}
	return s, nil
}

// ScenarioFile returns a path to a file holding scenario arg, for a `wwly bench` subprocess that
// may be another build (gate's base ref): arg itself when it is a file, else the embedded
// scenario written into dir.
func ScenarioFile(arg, dir string) (string, error) {
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		return filepath.Abs(arg)
	}
	b, err := scenarioBytes(arg)
	if err != nil {
		return "", err
	}
	if _, err := ParseScenario(b); err != nil {
		return "", fmt.Errorf("%s: %w", arg, err)
	}
	p := filepath.Join(dir, embeddedName(arg)+".yaml")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return "", fmt.Errorf("%w: %w", ErrScenario, err)
	}
	return p, nil
}

func scenarioBytes(arg string) ([]byte, error) {
	// A directory is not a scenario file: "gate" run from the repository root names the gate/
	// package's directory and the embedded scenario alike, and means the scenario.
	if st, err := os.Stat(arg); err == nil && st.IsDir() {
		if n := embeddedName(arg); n != "" {
			if b, ok := scenarios.Lookup(n); ok {
				return b, nil
			}
		}
		return nil, fmt.Errorf("%w: %s is a directory, not a scenario file", ErrScenario, arg)
	}
	b, err := os.ReadFile(arg)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrScenario, err)
	}
	if n := embeddedName(arg); n != "" {
		if b, ok := scenarios.Lookup(n); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: %q is neither a file nor an embedded scenario (embedded: %s)",
		ErrScenario, arg, strings.Join(scenarios.Names(), ", "))
}

// embeddedName is the embedded scenario arg may name: a bare name, or a path inside the
// repository's bench/scenarios directory (the flags' old defaults); "" for any other path, so
// a mistyped path of the user's own is an error, never silently an embedded scenario.
func embeddedName(arg string) string {
	dir, base := filepath.Split(filepath.ToSlash(arg))
	if dir != "" && !strings.HasSuffix(filepath.Clean(dir), "bench/scenarios") {
		return ""
	}
	return strings.TrimSuffix(base, ".yaml")
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
