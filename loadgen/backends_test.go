package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wwly/wwly/bench"
)

// The tests run real worker processes: the test binary re-executes itself as a worker (see
// TestMain) and serves these in-test backends, so the harness is tested without depending on
// package bench's real ones.

const workerEnv = "LOADGEN_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := RunWorker(context.Background(), os.Stdin, os.Stdout, testLookup); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testLookup(name string) (bench.Backend, error) {
	switch name {
	case "tflock":
		return fileBackend{name: name}, nil
	case "ttoken":
		return fileBackend{name: name, tokens: true}, nil
	case "tbadtoken":
		return fileBackend{name: name, tokens: true, stuckToken: true}, nil
	case "tnone":
		return fileBackend{name: name, none: true}, nil
	case "tcrash":
		return fileBackend{name: name, crash: true}, nil
	case "thang":
		return fileBackend{name: name, hang: true}, nil
	case "tfail":
		return fileBackend{name: name, fail: true}, nil
	case "tstall":
		return fileBackend{name: name, stall: true}, nil
	case "tslow":
		return fileBackend{name: name, slow: true}, nil
	case "futex-bcast", "flock": // real backends with no server, for the workloads (workload_test.go)
		return bench.Lookup(name)
	case "tnolock":
		return noLockBackend{}, nil
	}
	return nil, fmt.Errorf("no test backend %q", name)
}

// fileBackend is flock(2) on one file per name; with tokens, the file also holds a counter
// bumped under the lock (a rising fencing token). The other flags turn it into the none control
// or into a broken backend.
type fileBackend struct {
	name                                  string
	tokens, stuckToken, none, crash, hang bool
	// stall: Lock waits for ctx and never grants (0 ops, 0 errors: a backend that makes no
	// progress at this scale); slow: every Lock takes 40 ms (a few ops per window).
	stall, slow bool
	fail        bool // every Lock returns an error
}

func (b fileBackend) Name() string    { return b.name }
func (b fileBackend) Exclusive() bool { return !b.none }
func (b fileBackend) Tokens() bool    { return b.tokens }

type fileInstance struct{ env bench.Env }

func (i fileInstance) Env() bench.Env { return i.env }
func (fileInstance) ServerPID() int   { return 0 }
func (fileInstance) Stop() error      { return nil }

func (b fileBackend) Start(_ context.Context, o bench.StartOptions) (bench.Instance, error) {
	return fileInstance{env: bench.Env{"dir": o.Dir}}, nil
}

func (b fileBackend) Connect(_ context.Context, env bench.Env) (bench.Client, error) {
	return &fileClient{b: b, dir: env["dir"]}, nil
}

type fileClient struct {
	b     fileBackend
	dir   string
	files []*os.File
}

func (c *fileClient) Locker(name string) (bench.Locker, error) {
	f, err := os.OpenFile(filepath.Join(c.dir, "lock-"+name), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	c.files = append(c.files, f)
	return &fileLocker{b: c.b, f: f}, nil
}

func (c *fileClient) Close() error {
	for _, f := range c.files {
		_ = f.Close()
	}
	return nil
}

type fileLocker struct {
	b fileBackend
	f *os.File
}

func (l *fileLocker) Lock(ctx context.Context) (uint64, error) {
	switch {
	case l.b.none:
		return 0, nil
	case l.b.crash:
		fmt.Fprintln(os.Stderr, "boom: test backend crashes on purpose")
		os.Exit(3)
	case l.b.hang:
		select {} // ignores ctx: a broken backend
	case l.b.fail:
		return 0, errors.New("test backend refuses every lock")
	case l.b.stall:
		<-ctx.Done()
		return 0, ctx.Err()
	case l.b.slow:
		t := time.NewTimer(40 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX); err != nil {
		return 0, err
	}
	if !l.b.tokens {
		return 0, nil
	}
	var buf [8]byte
	_, _ = l.f.ReadAt(buf[:], 0)
	tok := binary.LittleEndian.Uint64(buf[:]) + 1
	if l.b.stuckToken {
		tok = 1
	}
	binary.LittleEndian.PutUint64(buf[:], tok)
	if _, err := l.f.WriteAt(buf[:], 0); err != nil {
		return 0, err
	}
	return tok, nil
}

func (l *fileLocker) TryLock(ctx context.Context) (bool, uint64, error) {
	tok, err := l.Lock(ctx)
	return err == nil, tok, err
}

func (l *fileLocker) Unlock(context.Context) error {
	if l.b.none {
		return nil
	}
	return unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
}

func testCellOptions(t *testing.T, backend string, spec CellSpec) CellOptions {
	t.Helper()
	b, err := testLookup(backend)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inst, err := b.Start(context.Background(), bench.StartOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	spec.Backend = backend
	if spec.Duration == 0 {
		spec.Duration = 300 * time.Millisecond
	}
	if spec.Interval == 0 {
		spec.Interval = 100 * time.Millisecond
	}
	t.Cleanup(func() {
		if live := liveTestWorkers(); len(live) > 0 {
			t.Errorf("worker processes left running after the cell: %v", live)
		}
	})
	return CellOptions{Spec: spec, Backend: b, Env: inst.Env(), Dir: dir, Command: testWorkerCommand,
		Grace: 20 * time.Second} // generous: -race workers on a loaded 2-core box are slow to report
}
