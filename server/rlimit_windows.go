package server

import "fmt"

// raiseNoFile has no RLIMIT_NOFILE to read on Windows; the server does not run there (the
// package builds so that the client's tests, which start a server, compile and vet).
func raiseNoFile() (uint64, error) {
	return 0, fmt.Errorf("server: %w", ErrUnsupportedOS)
}
