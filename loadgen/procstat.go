package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ErrProcStat marks a /proc file that does not read or parse.
var ErrProcStat = errors.New("loadgen: proc stat")

// Mem is a process's memory as /proc/PID/smaps_rollup tells it, in bytes.
type Mem struct {
	RSS int64
	PSS int64
}

// ReadMem reads /proc/pid/smaps_rollup.
func ReadMem(pid int) (Mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return Mem{}, fmt.Errorf("%w: %w", ErrProcStat, err)
	}
	return ParseSmapsRollup(b)
}

// ParseSmapsRollup reads the Rss and Pss lines ("Rss:   1234 kB") of a smaps_rollup file.
func ParseSmapsRollup(b []byte) (Mem, error) {
	var m Mem
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) != 3 || string(f[2]) != "kB" {
			continue
		}
		var dst *int64
		switch string(f[0]) {
		case "Rss:":
			dst = &m.RSS
		case "Pss:":
			dst = &m.PSS
		default:
			continue
		}
		kb, err := strconv.ParseInt(string(f[1]), 10, 64)
		if err != nil || kb < 0 || kb > 1<<40 {
			return Mem{}, fmt.Errorf("%w: bad %s %q", ErrProcStat, f[0], f[1])
		}
		*dst = kb * 1024
		seen++
	}
	if seen < 2 {
		return Mem{}, fmt.Errorf("%w: smaps_rollup without Rss and Pss", ErrProcStat)
	}
	return m, nil
}
