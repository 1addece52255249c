package bench

import (
	"fmt"
	"slices"
	"strings"
)

// backends lists every backend in report order: ours, its peers, then the yardsticks and the
// control. Backends hold no state, so one value serves every caller.
var backends = []Backend{
	wwlyBackend{},
	flockBackend{},
	redsyncBackend{},
	redislockBackend{},
	etcdBackend{},
	echoBackend{},
	futexBackend{},
	noneBackend{},
}

// ErrUnknownBackend is returned by Lookup for a name no backend has.
var ErrUnknownBackend = fmt.Errorf("bench: unknown backend")

// Lookup returns the backend called name (see Names). Safe for concurrent use.
func Lookup(name string) (Backend, error) {
	for _, b := range backends {
		if b.Name() == name {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w %q (have %s)", ErrUnknownBackend, name, strings.Join(Names(), ", "))
}

// Names returns every backend's name, in report order. The slice is the caller's.
func Names() []string {
	names := make([]string, 0, len(backends))
	for _, b := range backends {
		names = append(names, b.Name())
	}
	return slices.Clip(names)
}
