package futex

import (
	"math"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestWaitWake(t *testing.T) {
	var w atomic.Uint32
	// The word differs from val: Wait returns EAGAIN at once.
	if e := Wait(&w, 1, nil); e != unix.EAGAIN {
		t.Fatalf("Wait on a changed word: errno %v, want EAGAIN", e)
	}
	// A bounded wait nobody wakes ends with ETIMEDOUT.
	// A signal (the runtime's preemption SIGURG) may end it early with EINTR: retry, bounded.
	ts := unix.NsecToTimespec(int64(5 * time.Millisecond))
	e := WaitRaw(&w, 0, &ts)
	for i := 0; e == unix.EINTR && i < 100; i++ {
		e = WaitRaw(&w, 0, &ts)
	}
	if e != unix.ETIMEDOUT || !Normal(e) {
		t.Fatalf("WaitRaw with a 5 ms limit: errno %v, want ETIMEDOUT", e)
	}
	done := make(chan syscall.Errno, 1)
	go func() {
		limit := unix.NsecToTimespec(int64(10 * time.Second))
		done <- syscall.Errno(Wait(&w, 0, &limit))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if e := Wake(&w, math.MaxInt32); e != 0 {
			t.Fatalf("Wake: %v", e)
		}
		select {
		case e := <-done:
			if e != 0 && e != syscall.Errno(unix.EINTR) {
				t.Fatalf("woken Wait: errno %v, want 0", e)
			}
			return
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("Wake did not end the Wait within 10 s")
		}
	}
}
