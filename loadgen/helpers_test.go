package loadgen

import (
	"os"
	"os/exec"
)

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

func testWorkerCommand() *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	return cmd
}
