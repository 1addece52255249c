package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestClusterLockCLI: `wwly lock` against a cluster, given the members' addresses in WWLY_ADDR
// with a follower first (it is redirected to the leader) and given one follower alone: the
// command runs under the lock, and while another session holds the name `-n` gives up with the
// timeout status (75) instead of being granted by a member that does not lead.
func TestClusterLockCLI(t *testing.T) {
	c := startProcCluster(t, 3)
	lead := c.leader(15 * time.Second)
	follower := (lead + 1) % len(c.members)
	lists := map[string]string{
		"follower first": c.members[follower].clientAddr + "," + c.members[lead].clientAddr,
		"follower alone": c.members[follower].clientAddr,
		"every member":   c.addrs(),
	}
	for what, addrs := range lists {
		out, err := wwlyCmd(addrs, "lock", "cli", "--", "echo", "ran under the lock").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ran under the lock") {
			t.Errorf("%s (%s): wwly lock: %v\n%s", what, addrs, err, out)
		}
	}
	// Without CMD, wwly lock prints the token once it holds and keeps the lock until killed
	// (startCaptured's cleanup).
	p, _ := startCaptured(t, wwlyCmd(c.addrs(), "lock", "held"))
	eventually(t, 15*time.Second, "the CLI holds 'held'", func() bool {
		return strings.TrimSpace(p.stdout.String()) != ""
	})
	cmd := wwlyCmd(c.members[follower].clientAddr, "lock", "-n", "held", "--", "true")
	if out, err := cmd.CombinedOutput(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 75 {
		t.Errorf("wwly lock -n of a held name through a follower: %v, exit %v, want 75\n%s", err, cmd.ProcessState, out)
	}
}
