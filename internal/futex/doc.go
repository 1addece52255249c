// Package futex is the one home of the futex(2) calls that the harness's shared-memory pieces
// make: the futex ticket lock (internal/futexlock), the futex-bcast event (bench) and the start
// barrier and fan-out board (loadgen). Linux only; the words live in file mappings shared between
// processes, so the operations are the shared ones (no FUTEX_PRIVATE_FLAG).
package futex
