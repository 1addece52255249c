package loadgen

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
)

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// workerArg marks the test binary's worker processes on their command line.
const workerArg = "-test.run=^$"

func testWorkerCommand() *exec.Cmd {
	cmd := exec.Command(os.Args[0], workerArg)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	return cmd
}

// liveTestWorkers lists the pids of this test binary's worker processes still running (zombies
// included: a reaped process is gone from /proc).
func liveTestWorkers() []string {
	want := []byte(os.Args[0] + "\x00" + workerArg + "\x00")
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var live []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Equal(b, want) {
			live = append(live, filepath.Base(filepath.Dir(p)))
		}
	}
	return live
}
