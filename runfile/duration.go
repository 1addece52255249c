package runfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrBadDuration is returned when a Duration cannot be parsed.
var ErrBadDuration = errors.New("runfile: bad duration")

// Duration is a time.Duration written as text ("250ms") in JSON, and in YAML through
// encoding.TextMarshaler, so scenario files and run.json read the same way.
type Duration time.Duration

// String renders the duration the way time.Duration does ("250ms").
func (d Duration) String() string { return time.Duration(d).String() }

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ParseDuration reads "250ms"-style text; a bare "0" is zero. Negative durations are errors.
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

// MarshalText writes the duration as "250ms" (YAML and map keys).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads "250ms"; YAML scalars come through here.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
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
	return d.UnmarshalText([]byte(s))
}
