package e2e

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineBuf collects a process's output and lets a test wait for a line.
type lineBuf struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	change chan struct{} // closed and replaced on every write
	closed bool
}

func newLineBuf() *lineBuf { return &lineBuf{change: make(chan struct{})} }

func (l *lineBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.change)
	l.change = make(chan struct{})
	return len(p), nil
}

func (l *lineBuf) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	close(l.change)
	l.change = make(chan struct{})
}

// String returns everything written so far.
func (l *lineBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLine returns the first complete line starting with prefix, waiting up to d.
func (l *lineBuf) waitLine(t *testing.T, prefix string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		for _, line := range strings.SplitAfter(l.buf.String(), "\n") {
			if strings.HasSuffix(line, "\n") && strings.HasPrefix(line, prefix) {
				l.mu.Unlock()
				return strings.TrimSuffix(line, "\n")
			}
		}
		ch, closed := l.change, l.closed
		l.mu.Unlock()
		if closed {
			t.Fatalf("output ended without a %q line", prefix)
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %q line within %v", prefix, d)
		}
	}
}

// testLogWriter sends a child's stderr to the test log.
type testLogWriter struct {
	t      *testing.T
	prefix string
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Logf("[%s] %s", w.prefix, line)
	}
	return len(p), nil
}
