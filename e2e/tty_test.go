package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLockCLITerminal: on a terminal, wwly lock behaves as flock(1) for an interactive child:
// the child can read the terminal (its process group is the foreground one) instead of being
// stopped by SIGTTIN while wwly lock holds the lock forever. script(1) (util-linux, bsdutils on
// Debian) provides the pseudo-terminal.
func TestLockCLITerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script(1) is needed for a pseudo-terminal (Debian: bsdutils): %v", err)
	}
	srv := &serverProc{}
	startServerProc(t, srv)
	cmd := exec.Command(scriptBin, "-qfec", wwlyBin+` lock tty -- sh -c 'read x; echo got:$x'`, "/dev/null")
	cmd.Env = wwlyCmd(srv.addr).Env
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, cmd)
	// The line waits in the terminal's input queue until the child reads it; stdin stays open,
	// since script ends the session when its input ends.
	if _, err := in.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	line := p.stdout.waitLine(t, "got:", 15*time.Second)
	if strings.TrimSpace(line) != "got:hi" {
		t.Errorf("child printed %q, want got:hi", line)
	}
	in.Close()
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("script exited %d:\n%s", code, p.stdout.String())
	}
}
