package loadgen

import "github.com/wwly/wwly/runfile"

// ErrBadDuration is returned when a Duration cannot be parsed.
var ErrBadDuration = runfile.ErrBadDuration

// ParseDuration reads "250ms"-style text; a bare "0" is zero.
func ParseDuration(s string) (Duration, error) { return runfile.ParseDuration(s) }
