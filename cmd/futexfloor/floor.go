package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wwly/wwly/internal/futexlock"
)

// errChild marks a child process that failed or said something unexpected.
var errChild = errors.New("futexfloor: child")

// result is one W's measurement.
type result struct {
	workers   int
	ops       uint64
	opsPerSec float64
	p50, p99  time.Duration
}

// measure runs W children on a fresh lock file and merges what they report.
func measure(self string, w int, warmup, duration time.Duration) (result, error) {
	dir, err := os.MkdirTemp("", "futexfloor-")
	if err != nil {
		return result{}, fmt.Errorf("futexfloor: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "lock")
	slots := max(2*w, 256)
	kids := make([]*kid, 0, w)
	defer func() {
		for _, k := range kids {
			k.stop()
		}
	}()
	for range w {
		k, err := startKid(self, path, slots)
		if err != nil {
			return result{}, err
		}
		kids = append(kids, k)
	}
	for _, k := range kids {
		if line, err := k.line(); err != nil || line != "ready" {
			return result{}, fmt.Errorf("%w: wanted ready, got %q: %v", errChild, line, err)
		}
	}
	// One instant for all, a little ahead so every child is asleep until it.
	start := time.Now().Add(50*time.Millisecond + time.Duration(w)*50*time.Microsecond)
	measureAt := start.Add(warmup)
	end := measureAt.Add(duration)
	msg := fmt.Sprintf("%d %d %d\n", start.UnixNano(), measureAt.UnixNano(), end.UnixNano())
	for _, k := range kids {
		if _, err := io.WriteString(k.stdin, msg); err != nil {
			return result{}, fmt.Errorf("%w: send start: %w", errChild, err)
		}
	}
	timer := time.AfterFunc(time.Until(end)+30*time.Second, func() {
		for _, k := range kids {
			_ = k.cmd.Process.Kill()
		}
	})
	defer timer.Stop()
	total, ops, err := gather(kids)
	if err != nil {
		return result{}, err
	}
	return result{workers: w, ops: ops, opsPerSec: float64(ops) / duration.Seconds(),
		p50: time.Duration(total.quantile(0.50)), p99: time.Duration(total.quantile(0.99))}, nil
}

// gather reads every child's report concurrently (a child blocked on a full pipe would stall the
// lock for the others) and merges the histograms.
func gather(kids []*kid) (*hist, uint64, error) {
	var (
		mu    sync.Mutex
		total hist
		ops   uint64
		errs  []error
		wg    sync.WaitGroup
	)
	for _, k := range kids {
		wg.Go(func() {
			h, n, err := k.report()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			for i, c := range h {
				total[i] += c
			}
			ops += n
		})
	}
	wg.Wait()
	return &total, ops, errors.Join(errs...)
}

type kid struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

func startKid(self, path string, slots int) (*kid, error) {
	cmd := exec.Command(self, "child", path, strconv.Itoa(slots))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errChild, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errChild, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start: %w", errChild, err)
	}
	return &kid{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}, nil
}

func (k *kid) line() (string, error) {
	s, err := k.stdout.ReadString('\n')
	return strings.TrimSpace(s), err
}

// report reads "ops N" then "index count" lines up to "end".
func (k *kid) report() (*hist, uint64, error) {
	var h hist
	first, err := k.line()
	var ops uint64
	if _, serr := fmt.Sscanf(first, "ops %d", &ops); err != nil || serr != nil {
		return nil, 0, fmt.Errorf("%w: report %q: %v %v", errChild, first, err, serr)
	}
	for {
		l, err := k.line()
		if err != nil {
			return nil, 0, fmt.Errorf("%w: report: %w", errChild, err)
		}
		if l == "end" {
			return &h, ops, nil
		}
		var i int
		var c uint64
		if _, err := fmt.Sscanf(l, "%d %d", &i, &c); err != nil || i < 0 || i >= len(h) {
			return nil, 0, fmt.Errorf("%w: report line %q", errChild, l)
		}
		h[i] += c
	}
}

func (k *kid) stop() {
	_ = k.stdin.Close()
	done := make(chan struct{})
	go func() { _ = k.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = k.cmd.Process.Kill()
		<-done
	}
}

// child is one process: map, ready, wait for the instant, loop, report.
func child(args []string, in io.Reader, out io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("%w: want PATH SLOTS", errUsage)
	}
	slots, err := strconv.Atoi(args[1])
	if err != nil {
		return fmt.Errorf("%w: slots %q", errUsage, args[1])
	}
	l, err := futexlock.Map(args[0], slots, futexlock.WaitRaw) // one goroutine per process
	if err != nil {
		return err
	}
	defer l.Close()
	if _, err := io.WriteString(out, "ready\n"); err != nil {
		return err
	}
	var startNs, measureNs, endNs int64
	if _, err := fmt.Fscanf(in, "%d %d %d\n", &startNs, &measureNs, &endNs); err != nil {
		return fmt.Errorf("%w: start line: %w", errChild, err)
	}
	time.Sleep(time.Until(time.Unix(0, startNs)))
	h := new(hist)
	ops := loop(l, time.Unix(0, measureNs), time.Unix(0, endNs), h)
	w := bufio.NewWriter(out)
	fmt.Fprintf(w, "ops %d\n", ops)
	for i, c := range h {
		if c > 0 {
			fmt.Fprintf(w, "%d %d\n", i, c)
		}
	}
	fmt.Fprintln(w, "end")
	return w.Flush()
}

// loop is the whole measured work: acquire, release, one histogram record per op in the window.
// It leaves only after a release, so no ticket is stranded.
func loop(l *futexlock.Lock, measureAt, end time.Time, h *hist) uint64 {
	var ops uint64
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return ops
		}
		t, err := l.Acquire(time.Time{}, nil)
		if err != nil {
			continue // only ErrSlots, impossible with 2×W slots; the next try re-checks
		}
		t1 := time.Now()
		l.Release(t)
		if !t1.Before(measureAt) && t1.Before(end) {
			ops++
			h.record(t1.Sub(t0).Nanoseconds())
		}
	}
}
