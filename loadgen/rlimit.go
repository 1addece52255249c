package loadgen

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ensureFiles raises RLIMIT_NOFILE's soft limit (up to the hard limit) so the coordinator can
// hold three pipes per worker, and fails clearly when even the hard limit is too low.
func ensureFiles(need int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("%w: getrlimit: %w", ErrCell, err)
	}
	if lim.Cur >= uint64(need) {
		return nil
	}
	if lim.Max < uint64(need) {
		return fmt.Errorf("%w: need %d open files, hard limit is %d (raise it with ulimit -Hn)", ErrCell, need, lim.Max)
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("%w: setrlimit: %w", ErrCell, err)
	}
	return nil
}
