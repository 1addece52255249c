//go:build unix

package engine

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user + system). Benchmarks report
// it per op beside wall time because on a shared, overloaded box wall time mostly
// measures the waiting for a core.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
