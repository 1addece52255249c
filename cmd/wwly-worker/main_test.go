package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/loadgen"
)

// The lean worker must not link the network peers' clients (nor the CLI or the server): that is
// what makes it cheap to start by the thousand. The full build must still have them.
func TestLeanWorkerDeps(t *testing.T) {
	deps := func(tags ...string) string {
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	lean := deps("-tags", "wwlylean")
	for _, banned := range []string{"github.com/redis/", "go.etcd.io/", "google.golang.org/grpc", "github.com/spf13/cobra",
		"github.com/panjf2000/gnet", "gonum.org/", "github.com/wwly/wwly/server"} {
		if strings.Contains(lean, banned) {
			t.Errorf("the lean worker links %s", banned)
		}
	}
	redis := deps("-tags", "wwlylean,wwlyredis")
	for _, banned := range []string{"go.etcd.io/", "google.golang.org/grpc", "github.com/spf13/cobra", "github.com/wwly/wwly/server"} {
		if strings.Contains(redis, banned) {
			t.Errorf("the Redis worker links %s", banned)
		}
	}
	if !strings.Contains(redis, "github.com/go-redsync/redsync/v4") || !strings.Contains(redis, "github.com/bsm/redislock") {
		t.Error("the Redis worker lacks redsync or redislock")
	}
	if full := deps(); !strings.Contains(full, "go.etcd.io/etcd/client/v3") {
		t.Error("the full worker lacks the etcd client")
	}
}

// A worker waiting at the start barrier sleeps: over a second it is not woken by any timer
// (heartbeat, interval flush, polling). Measured from the kernel's context-switch counters of
// all its threads; a few switches are the runtime settling after READY.
func TestIdleWorkerDoesNotWake(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "wwly-worker")
	if out, err := exec.Command("go", "build", "-tags", "wwlylean", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	shm := filepath.Join(dir, "witness")
	w, err := loadgen.CreateWitness(shm, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cfg := loadgen.WorkerConfig{Backend: "none", Names: []string{"a"}, Shm: shm,
		Timing: loadgen.Timing{Duration: time.Second}}
	line, _ := json.Marshal(cfg)

	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if _, err := stdin.Write(append(line, '\n')); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(stdout)
	if ready, err := rd.ReadString('\n'); err != nil || !strings.Contains(ready, `"ready"`) {
		t.Fatalf("no ready: %q %v", ready, err)
	}
	time.Sleep(300 * time.Millisecond) // let the runtime settle (sysmon retakes the P, then sleeps)
	before := ctxSwitches(t, cmd.Process.Pid)
	time.Sleep(time.Second)
	n := ctxSwitches(t, cmd.Process.Pid) - before
	t.Logf("%d context switches in 1 s while waiting at the barrier", n)
	if n > 5 {
		t.Errorf("an idle worker was switched in %d times in 1 s: something wakes it on a timer", n)
	}
}

// ctxSwitches sums the voluntary and involuntary context switches of every thread of pid.
func ctxSwitches(t *testing.T, pid int) int {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of %d: %v", pid, err)
	}
	total := 0
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that just exited
		}
		for _, ln := range strings.Split(string(b), "\n") {
			if strings.Contains(ln, "ctxt_switches:") {
				n, _ := strconv.Atoi(strings.TrimSpace(ln[strings.Index(ln, ":")+1:]))
				total += n
			}
		}
	}
	return total
}
