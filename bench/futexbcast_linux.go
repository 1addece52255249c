package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wwly/wwly/internal/futex"
)

// futexBcastBackend is the fan-out yardstick: an event in a shared mmap'd file per name, set by
// storing the flag, bumping a generation word and waking every sleeper with one
// FUTEX_WAKE(INT_MAX). It is the least a broadcast between processes on one host can cost: no
// server, no socket, one syscall for the setter and one wake-up per waiter. Not a lock.
//
// A name's file: magic u64, flag u32, generation u32 (the futex word).
type futexBcastBackend struct{}

func (futexBcastBackend) Name() string        { return "futex-bcast" }
func (futexBcastBackend) Exclusive() bool     { return false }
func (futexBcastBackend) Tokens() bool        { return false }
func (futexBcastBackend) Workloads() []string { return []string{WorkloadFanout} }

func (futexBcastBackend) Start(_ context.Context, opts StartOptions) (Instance, error) {
	dir, err := lockDir(opts.Dir, "futex-bcast")
	if err != nil {
		return nil, err
	}
	return &procInstance{env: Env{envDir: dir}}, nil
}

func (futexBcastBackend) Connect(_ context.Context, env Env) (Client, error) {
	dir := env[envDir]
	if dir == "" {
		return nil, fmt.Errorf("bench: futex-bcast: env has no %q", envDir)
	}
	return &bcastClient{eventOnly: eventOnly{name: "futex-bcast"}, dir: dir}, nil
}

const (
	bcastMagic = 0x7774_6c79_6263_7374 // "wwlybcst"
	bcastSize  = 16
)

// bcastClient is goroutine-safe; each Event is for one goroutine.
type bcastClient struct {
	eventOnly
	dir string

	mu   sync.Mutex
	mems [][]byte // mu guards; unmapped by Close
}

// bcastEvent is one name's mapped file.
type bcastEvent struct {
	flag *atomic.Uint32
	gen  *atomic.Uint32
}

func (c *bcastClient) Event(_ context.Context, name string) (Event, error) {
	if name == "" {
		return nil, fmt.Errorf("bench: futex-bcast: empty name")
	}
	path := filepath.Join(c.dir, nameFile("bcast-", name))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bench: futex-bcast: %w", err)
	}
	defer f.Close() // the mapping outlives the fd
	// Creation races are harmless: zeros are a clear event, and truncating to the same size is
	// idempotent.
	if err := f.Truncate(bcastSize); err != nil {
		return nil, fmt.Errorf("bench: futex-bcast: size %s: %w", path, err)
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, bcastSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("bench: futex-bcast: mmap %s: %w", path, err)
	}
	magic := (*atomic.Uint64)(unsafe.Pointer(&mem[0]))
	magic.CompareAndSwap(0, bcastMagic)
	if magic.Load() != bcastMagic {
		_ = unix.Munmap(mem)
		return nil, fmt.Errorf("bench: futex-bcast: %s is not an event file", path)
	}
	c.mu.Lock()
	c.mems = append(c.mems, mem)
	c.mu.Unlock()
	return &bcastEvent{flag: (*atomic.Uint32)(unsafe.Pointer(&mem[8])), gen: (*atomic.Uint32)(unsafe.Pointer(&mem[12]))}, nil
}

// Close unmaps every Event's file; they must not be used afterwards.
func (c *bcastClient) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, m := range c.mems {
		errs = append(errs, unix.Munmap(m))
	}
	c.mems = nil
	return errors.Join(errs...)
}

// bcastPoll bounds one futex sleep when ctx can end without a deadline: a futex wait cannot be
// interrupted from Go, so it wakes now and then to look at ctx.
const bcastPoll = 100 * time.Millisecond

// Wait sleeps on the generation word until the flag is set. The generation is read before the
// flag, so a Set between the two changes the word and the futex call returns at once.
func (e *bcastEvent) Wait(ctx context.Context) error {
	deadline, hasDeadline := ctx.Deadline()
	for {
		g := e.gen.Load()
		if e.flag.Load() != 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bench: futex-bcast wait: %w", err)
		}
		d := bcastPoll
		if hasDeadline {
			d = min(d, time.Until(deadline))
		}
		ts := unix.NsecToTimespec(int64(max(d, time.Microsecond)))
		_ = futex.Wait(e.gen, g, &ts)
	}
}

// Set stores the flag, bumps the generation and wakes every sleeper with one call.
func (e *bcastEvent) Set(context.Context) error {
	e.flag.Store(1)
	e.gen.Add(1)
	if errno := futex.Wake(e.gen, math.MaxInt32); errno != 0 {
		return fmt.Errorf("bench: futex-bcast wake: %w", errno)
	}
	return nil
}

func (e *bcastEvent) Clear(context.Context) error {
	e.flag.Store(0)
	return nil
}
