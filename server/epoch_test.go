package server

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/wwly/wwly/engine"
	"github.com/wwly/wwly/wire"
)

func TestOpenEpoch(t *testing.T) {
	cases := []struct {
		name    string
		content string // "" = no file
		want    uint32
		wantErr bool
	}{
		{"fresh dir", "", 1, false},
		{"existing", "41\n", 42, false},
		{"no newline", "7", 8, false},
		{"garbage", "forty-two\n", 0, true},
		{"negative", "-3\n", 0, true},
		{"at max", "16777215\n", 0, true},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.content != "" {
				if err := os.WriteFile(filepath.Join(dir, epochFile), []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			st, err := openEpoch(dir, time.Now())
			if tt.wantErr {
				if !errors.Is(err, ErrEpoch) {
					t.Fatalf("err = %v, want ErrEpoch", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := st.epoch(); got != tt.want {
				t.Fatalf("epoch %d, want %d", got, tt.want)
			}
			b, _ := os.ReadFile(filepath.Join(dir, epochFile))
			if string(b) != itoa(tt.want)+"\n" {
				t.Fatalf("file holds %q", b)
			}
			// A bump persists; a lower value is ignored.
			if err := st.persist(tt.want + 5); err != nil {
				t.Fatal(err)
			}
			if err := st.persist(tt.want + 1); err != nil {
				t.Fatal(err)
			}
			b, _ = os.ReadFile(filepath.Join(dir, epochFile))
			if string(b) != itoa(tt.want+5)+"\n" {
				t.Fatalf("after bump file holds %q", b)
			}
		})
	}
}

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func TestClockEpochRisesAndFits(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	a, err := openEpoch("", t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openEpoch("", t0.Add(epochUnit))
	if err != nil {
		t.Fatal(err)
	}
	if b.epoch() <= a.epoch() || a.epoch() > engine.MaxEpoch {
		t.Fatalf("epochs %d then %d (max %d)", a.epoch(), b.epoch(), engine.MaxEpoch)
	}
	if _, err := openEpoch("", time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrEpoch) {
		t.Fatalf("clock past the range: err = %v", err)
	}
}

func TestConnCap(t *testing.T) {
	cases := []struct {
		noFile uint64
		loops  int
		want   int
	}{
		{1024, 1, 1024 - 64 - 4},
		{20000, 2, 20000 - 64 - 8},
		{60, 1, 0},
		{1 << 40, 1, 1 << 30},
	}
	for _, tt := range cases {
		if got := connCap(tt.noFile, tt.loops); got != tt.want {
			t.Errorf("connCap(%d, %d) = %d, want %d", tt.noFile, tt.loops, got, tt.want)
		}
	}
}

// TestNoGoroutineLeak: a started and shut down server leaves no goroutines of its own behind.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Loops = 2
	cfg.DataDir = t.TempDir()
	cfg.Logger = testLogger(t)
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := helloConn(t, s)
	c.lock("leak")
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.expectError(0, wire.CodeShutdown)
	c.expectClosed()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) { // +2: gnet's lazily started worker pool
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after shutdown:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
