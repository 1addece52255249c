package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrBadDuration is returned when a Duration cannot be parsed.
var ErrBadDuration = errors.New("loadgen: bad duration")

// String renders the duration the way time.Duration does ("250ms").
func (d Duration) String() string { return time.Duration(d).String() }

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ParseDuration reads "250ms"-style text; a bare "0" is zero.
func ParseDuration(s string) (Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %v", ErrBadDuration, s, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("%w: %q is negative", ErrBadDuration, s)
	}
	return Duration(v), nil
}

// MarshalJSON writes the duration as a string such as "250ms".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string such as "250ms". A bare JSON number is taken as nanoseconds so
// files written by hand with raw numbers still load.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("%w: %s", ErrBadDuration, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %d is negative", ErrBadDuration, n)
		}
		*d = Duration(n)
		return nil
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a string such as "250ms".
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads a scalar such as "250ms".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%w: line %d: want a scalar like \"250ms\"", ErrBadDuration, n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}
