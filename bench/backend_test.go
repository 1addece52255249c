package bench_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/bench/benchtest"
)

func lookup(t testing.TB, name string) bench.Backend {
	t.Helper()
	b, err := bench.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConformance runs the conformance suite against every lock backend, each on a real server
// its Start launches (skipped with the reason when the server binary is missing).
func TestConformance(t *testing.T) {
	for _, name := range []string{"flock", "futex-fifo", "redsync", "redislock", "etcd"} {
		t.Run(name, func(t *testing.T) {
			var opts bench.StartOptions
			if name == "etcd" {
				opts.Dir = memDir(t)
			}
			benchtest.Run(t, lookup(t, name), opts)
		})
	}
}

// memDir is a temp dir on tmpfs when the machine has /dev/shm. The suite checks lock semantics,
// not etcd's durability: on a loaded CI box etcd's WAL fsync on disk made it answer "etcdserver:
// request timed out" to a Lock whose ctx had time left (seen once in `make test`).
func memDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err != nil || !st.IsDir() {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "wwly-bench-test-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func TestSmoke(t *testing.T) {
	for _, name := range []string{"tcp-echo", "none"} {
		t.Run(name, func(t *testing.T) {
			b := lookup(t, name)
			if b.Exclusive() {
				t.Errorf("%s: Exclusive() = true; it is not a lock", name)
			}
			benchtest.Smoke(t, b, bench.StartOptions{})
		})
	}
}

func TestRegistry(t *testing.T) {
	want := []string{"wwly", "wwly-tls", "wwly-raft", "flock", "redsync", "redislock", "etcd", "etcd3",
		"redis-pubsub", "etcd-watch", "tcp-echo", "futex-fifo", "futex-bcast", "none"}
	if got := bench.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v; want %v", got, want)
	}
	for _, name := range want {
		b, err := bench.Lookup(name)
		if err != nil || b.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, b, err)
		}
	}
	if _, err := bench.Lookup("zookeeper"); !errors.Is(err, bench.ErrUnknownBackend) {
		t.Errorf("Lookup(zookeeper) = %v; want ErrUnknownBackend", err)
	}
	tests := []struct {
		name              string
		exclusive, tokens bool
	}{
		{"wwly", true, true},
		{"wwly-tls", true, true},
		{"wwly-raft", true, true},
		{"flock", true, false},
		{"redsync", true, false},
		{"redislock", true, false},
		{"etcd", true, true},
		{"etcd3", true, true},
		{"tcp-echo", false, false},
		{"futex-fifo", true, true},
		{"futex-bcast", false, false},
		{"redis-pubsub", false, false},
		{"etcd-watch", false, false},
		{"none", false, false},
	}
	for _, tt := range tests {
		b := lookup(t, tt.name)
		if b.Exclusive() != tt.exclusive || b.Tokens() != tt.tokens {
			t.Errorf("%s: Exclusive, Tokens = %v, %v; want %v, %v", tt.name, b.Exclusive(), b.Tokens(), tt.exclusive, tt.tokens)
		}
	}
}

// TestUnavailable: a missing server binary makes Start fail with ErrUnavailable and a reason.
func TestUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, name := range []string{"redsync", "redislock", "etcd"} {
		_, err := lookup(t, name).Start(context.Background(), bench.StartOptions{Dir: t.TempDir()})
		if !errors.Is(err, bench.ErrUnavailable) {
			t.Errorf("%s: Start without its server = %v; want ErrUnavailable", name, err)
		}
	}
	_, err := lookup(t, "wwly").Start(context.Background(), bench.StartOptions{Dir: t.TempDir(), Binary: "/nonexistent/wwly"})
	if !errors.Is(err, bench.ErrUnavailable) {
		t.Errorf("wwly: Start with a missing binary = %v; want ErrUnavailable", err)
	}
}

// TestGivenAddrs: with opts.Addrs a backend starts nothing and passes the address on.
func TestGivenAddrs(t *testing.T) {
	tests := []struct{ backend, key string }{
		{"wwly", "wwly"}, {"redsync", "redis"}, {"redislock", "redis"}, {"etcd", "etcd"},
	}
	for _, tt := range tests {
		inst, err := lookup(t, tt.backend).Start(context.Background(), bench.StartOptions{
			Dir: t.TempDir(), Addrs: map[string]string{tt.key: "127.0.0.1:9"},
		})
		if err != nil {
			t.Fatalf("%s: %v", tt.backend, err)
		}
		if inst.ServerPID() != 0 || inst.Env()[tt.key] != "127.0.0.1:9" {
			t.Errorf("%s: pid %d env %v", tt.backend, inst.ServerPID(), inst.Env())
		}
		if err := inst.Stop(); err != nil {
			t.Error(err)
		}
	}
}

// TestServerStops: Stop leaves no server process behind.
func TestServerStops(t *testing.T) {
	for _, name := range []string{"redsync", "etcd"} {
		t.Run(name, func(t *testing.T) {
			inst, err := lookup(t, name).Start(context.Background(), bench.StartOptions{Dir: t.TempDir()})
			if errors.Is(err, bench.ErrUnavailable) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			pid := inst.ServerPID()
			if pid <= 0 {
				t.Fatalf("ServerPID = %d", pid)
			}
			if err := inst.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if err := inst.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("server pid %d still exists after Stop (kill 0: %v)", pid, err)
			}
		})
	}
}

// TestWwly runs the suite against our own server, built from this checkout, when it can be
// built and serves; otherwise it says why it skips.
func TestWwly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wwly binary; skipped in -short")
	}
	bin := buildWwly(t)
	benchtest.Run(t, lookup(t, "wwly"), bench.StartOptions{Binary: bin})
	t.Run("MultiProcess", func(t *testing.T) {
		runMultiProcess(t, "wwly", bench.StartOptions{Binary: bin}, 3, 300)
	})
}

// TestWwlyTLS runs the suite against our server through its TLS listener, with certificates the
// backend makes for the run.
func TestWwlyTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wwly binary; skipped in -short")
	}
	bin := buildWwly(t)
	benchtest.Run(t, lookup(t, "wwly-tls"), bench.StartOptions{Binary: bin})
	t.Run("MultiProcess", func(t *testing.T) {
		runMultiProcess(t, "wwly-tls", bench.StartOptions{Binary: bin}, 3, 300)
	})
}

// ExampleLookup shows how the harness finds a backend and drives it.
func ExampleLookup() {
	b, err := bench.Lookup("none")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	inst, err := b.Start(ctx, bench.StartOptions{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer inst.Stop()
	c, err := b.Connect(ctx, inst.Env())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	l, _ := c.Locker("orders")
	if _, err := l.Lock(ctx); err == nil {
		fmt.Println("held; exclusive:", b.Exclusive())
		_ = l.Unlock(ctx)
	}
	// Output: held; exclusive: false
}

// BenchmarkLockUnlock is one client's uncontended lock+unlock cycle on each backend (the wwly
// backend needs its binary: see TestWwly).
func BenchmarkLockUnlock(b *testing.B) {
	for _, name := range []string{"wwly", "wwly-tls", "flock", "futex-fifo", "redsync", "redislock", "etcd", "tcp-echo", "none"} {
		b.Run(name, func(b *testing.B) {
			be := lookup(b, name)
			var opts bench.StartOptions
			if strings.HasPrefix(name, "wwly") {
				opts.Binary = buildWwly(b)
			}
			env := benchtest.Start(b, be, opts)
			ctx := context.Background()
			c, err := be.Connect(ctx, env)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			l, err := c.Locker("bench")
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := l.Lock(ctx); err != nil {
					b.Fatal(err)
				}
				if err := l.Unlock(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
