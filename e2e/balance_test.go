package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// roleWorker does WWLY_E2E_ITERS read-modify-write increments of the counter file WWLY_E2E_FILE,
// each under the lock WWLY_E2E_NAME unless WWLY_E2E_NOLOCK is set. The file holds
// "<count> <token>": with the lock, each worker also checks that the fencing token it holds is
// above the one of the previous writer.
func roleWorker() error {
	iters, _ := strconv.Atoi(os.Getenv("WWLY_E2E_ITERS"))
	path := os.Getenv("WWLY_E2E_FILE")
	if os.Getenv("WWLY_E2E_NOLOCK") != "" {
		for range iters {
			n, _, _ := readCounter(path) // torn reads are part of the unlocked demo
			if err := writeCounter(path, n+1, 0); err != nil {
				return err
			}
		}
		return nil
	}
	c, err := dialEnv()
	if err != nil {
		return err
	}
	defer c.Close()
	m := c.Mutex(os.Getenv("WWLY_E2E_NAME"))
	for i := range iters {
		if err := m.LockContext(context.Background()); err != nil {
			return fmt.Errorf("increment %d: %w", i, err)
		}
		n, last, err := readCounter(path)
		if err != nil {
			return fmt.Errorf("increment %d: %w", i, err)
		}
		if tok := m.Token(); tok <= last {
			return fmt.Errorf("increment %d: token %d not above the last writer's %d", i, tok, last)
		}
		if err := writeCounter(path, n+1, m.Token()); err != nil {
			return err
		}
		m.Unlock()
	}
	return nil
}

func readCounter(path string) (n int, token uint64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, 0, fmt.Errorf("counter file %s is empty", path)
	}
	if n, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, fmt.Errorf("counter file %s: %w", path, err)
	}
	if len(f) > 1 {
		token, _ = strconv.ParseUint(f[1], 10, 64)
	}
	return n, token, nil
}

func writeCounter(path string, n int, token uint64) error {
	return os.WriteFile(path, []byte(fmt.Sprintf("%d %d\n", n, token)), 0o644)
}

// TestBalance is the seeds' demo: 8 processes each add 1 to a shared file 200 times. Under the
// lock the total is exact; without it, updates are lost (logged, not asserted).
func TestBalance(t *testing.T) {
	const procs, iters = 8, 200
	srv := &serverProc{}
	startServerProc(t, srv)
	run := func(t *testing.T, nolock bool) (int, time.Duration) {
		path := filepath.Join(t.TempDir(), "balance")
		if err := writeCounter(path, 0, 0); err != nil {
			t.Fatal(err)
		}
		env := []string{
			"WWLY_ADDR=" + srv.addr, "WWLY_E2E_NAME=balance", "WWLY_E2E_FILE=" + path,
			"WWLY_E2E_ITERS=" + strconv.Itoa(iters),
		}
		if nolock {
			env = append(env, "WWLY_E2E_NOLOCK=1")
		}
		began := time.Now()
		ps := make([]*proc, procs)
		for i := range ps {
			ps[i] = start(t, selfCmd("worker", env...))
		}
		for i, p := range ps {
			if code := p.wait(t, 60*time.Second); code != 0 {
				t.Fatalf("worker %d exited %d", i, code)
			}
		}
		elapsed := time.Since(began)
		n, _, err := readCounter(path)
		if err != nil && !nolock {
			t.Fatal(err)
		}
		return n, elapsed
	}
	t.Run("locked", func(t *testing.T) {
		n, d := run(t, false)
		if n != procs*iters {
			t.Fatalf("total = %d, want %d", n, procs*iters)
		}
		t.Logf("%d locked increments by %d processes in %v (%.0f/s)", n, procs, d, float64(n)/d.Seconds())
	})
	t.Run("unlocked", func(t *testing.T) {
		n, d := run(t, true)
		t.Logf("without the lock: total %d of %d (%d updates lost) in %v", n, procs*iters, procs*iters-n, d)
	})
	t.Run("wwly-lock", func(t *testing.T) {
		// The same through the CLI: each increment is a shell under `wwly lock`.
		const cliProcs, cliIters = 4, 10
		path := filepath.Join(t.TempDir(), "balance")
		if err := os.WriteFile(path, []byte("0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := fmt.Sprintf(`for i in $(seq %d); do %s lock balance-cli -- sh -c 'n=$(cat "$1"); echo $((n+1)) > "$1"' sh %s || exit 1; done`,
			cliIters, wwlyBin, path)
		ps := make([]*proc, cliProcs)
		for i := range ps {
			cmd := wwlyCmd(srv.addr)
			cmd.Path, cmd.Args = "/bin/sh", []string{"sh", "-c", script}
			ps[i] = start(t, cmd)
		}
		for i, p := range ps {
			if code := p.wait(t, 60*time.Second); code != 0 {
				t.Fatalf("shell %d exited %d", i, code)
			}
		}
		b, _ := os.ReadFile(path)
		if got := strings.TrimSpace(string(b)); got != strconv.Itoa(cliProcs*cliIters) {
			t.Fatalf("total = %s, want %d", got, cliProcs*cliIters)
		}
	})
}
