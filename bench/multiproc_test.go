package bench_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/bench/benchtest"
)

// The test binary re-runs itself as a worker process when these are set (see TestMain).
const (
	workerBackendEnv = "WWLY_BENCHTEST_WORKER"
	workerEnvEnv     = "WWLY_BENCHTEST_ENV"
	workerFileEnv    = "WWLY_BENCHTEST_COUNTER"
	workerCyclesEnv  = "WWLY_BENCHTEST_CYCLES"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(workerBackendEnv); name != "" {
		if err := runWorker(name); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWorker does cycles of: lock, read-increment-write a counter in a file with plain
// pread/pwrite (no atomicity of its own), unlock. Lost increments mean the lock let two
// processes in at once.
func runWorker(name string) error {
	b, err := bench.Lookup(name)
	if err != nil {
		return err
	}
	var env bench.Env
	if err := json.Unmarshal([]byte(os.Getenv(workerEnvEnv)), &env); err != nil {
		return err
	}
	cycles, err := strconv.Atoi(os.Getenv(workerCyclesEnv))
	if err != nil {
		return err
	}
	f, err := os.OpenFile(os.Getenv(workerFileEnv), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx := context.Background()
	c, err := b.Connect(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	l, err := c.Locker("multiproc")
	if err != nil {
		return err
	}
	var buf [8]byte
	start := time.Now()
	defer func() { fmt.Printf("loop_ns=%d\n", time.Since(start).Nanoseconds()) }()
	for range cycles {
		if _, err := l.Lock(ctx); err != nil {
			return err
		}
		if _, err := f.ReadAt(buf[:], 0); err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(buf[:], binary.LittleEndian.Uint64(buf[:])+1)
		if _, err := f.WriteAt(buf[:], 0); err != nil {
			return err
		}
		if err := l.Unlock(ctx); err != nil {
			return err
		}
	}
	return nil
}

// TestMultiProcess checks exclusion between OS processes — the shared-memory and file locks
// are only meaningful across processes. (wwly runs it in TestWwly, which builds the binary.)
func TestMultiProcess(t *testing.T) {
	for _, name := range strings.Split(*multiBackends, ",") {
		t.Run(name, func(t *testing.T) {
			var opts bench.StartOptions
			if name == "wwly" {
				opts.Binary = buildWwly(t)
			}
			runMultiProcess(t, name, opts, *multiProcs, *multiCycles)
		})
	}
}

// Flags to turn TestMultiProcess into a quick contention measurement, e.g.
// go test -run TestMultiProcess ./bench -multiproc.procs=8 -multiproc.cycles=20000 -v
var (
	multiBackends = flag.String("multiproc.backends", "flock,futex-fifo", "backends TestMultiProcess runs")
	multiProcs    = flag.Int("multiproc.procs", 3, "worker processes in TestMultiProcess")
	multiCycles   = flag.Int("multiproc.cycles", 300, "lock cycles per worker process in TestMultiProcess")
)

// runMultiProcess starts the backend, runs procs worker processes of cycles locked increments
// each on one name, checks no increment was lost, and logs the rate seen (with process start-up
// included, so it is a floor, not a measurement of the lock alone).
func runMultiProcess(t *testing.T, name string, opts bench.StartOptions, procs, cycles int) {
	t.Helper()
	opts.MaxWorkers = procs
	env := benchtest.Start(t, lookup(t, name), opts)
	envJSON, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(t.TempDir(), "counter")
	if err := os.WriteFile(counter, make([]byte, 8), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*bytes.Buffer, procs)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			workerBackendEnv+"="+name, workerEnvEnv+"="+string(envJSON),
			workerFileEnv+"="+counter, workerCyclesEnv+"="+strconv.Itoa(cycles))
		cmd.Stderr = os.Stderr
		outs[i] = new(bytes.Buffer)
		cmd.Stdout = outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	var loop time.Duration // the longest worker loop: the window all the cycles took
	var loops []time.Duration
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
		var ns int64
		if _, err := fmt.Sscanf(outs[i].String(), "loop_ns=%d", &ns); err == nil {
			loop = max(loop, time.Duration(ns))
			loops = append(loops, time.Duration(ns).Round(time.Millisecond))
		}
	}
	elapsed := time.Since(start)
	b, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(b); got != uint64(procs*cycles) {
		if lookup(t, name).Exclusive() {
			t.Errorf("counter = %d after %d × %d locked increments: exclusion broken", got, procs, cycles)
		} else {
			t.Logf("%s is not a lock: %d of %d increments lost, as expected", name, uint64(procs*cycles)-got, procs*cycles)
		}
	}
	t.Logf("%s: %d processes × %d cycles in %v; longest worker loop %v: %.0f cycles/s (start-up skews it)",
		name, procs, cycles, elapsed.Round(time.Millisecond), loop.Round(time.Microsecond),
		float64(procs*cycles)/loop.Seconds())
	if testing.Verbose() {
		t.Logf("%s: worker loops %v (a fair lock ends them together)", name, loops)
	}
}
