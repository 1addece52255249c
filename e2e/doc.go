// Package e2e holds wwly's cross-process end-to-end tests: real server processes, real client
// processes (the test binary re-run as a worker, and the wwly binary itself), real signals.
// It has no code outside its tests.
package e2e
