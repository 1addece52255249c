package server

import "errors"

// ErrUnsupportedOS is returned by Start on a system the server does not run on (Windows): the
// package builds there only so that the client's tests, which start servers, compile and vet.
var ErrUnsupportedOS = errors.New("not supported on this OS")

// errLocked is flockTry's answer when another process holds the lock.
var errLocked = errors.New("locked by another process")
