package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wwly/wwly/engine"
)

// epochFile is the name of the fencing-token epoch file inside Config.DataDir.
const epochFile = "epoch"

// Clock-derived epochs (no data dir) count epochUnit steps since epochBase. The engine's epoch
// has 24 bits (tokens are Epoch<<40 | counter), so plain seconds since 2026 overflow in 194 days;
// 10-second steps last until 2031-04 and still rise across restarts at least 10 s apart.
var epochBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const epochUnit = 10 * time.Second

// ErrEpoch is wrapped by every failure to read or persist the epoch.
var ErrEpoch = errors.New("server: epoch state")

// epochStore persists the fencing-token epoch. Safe for concurrent use: shards on different
// loops may bump their epoch at the same time (it happens once per 2^40 grants), so a mutex
// here costs nothing on the hot path.
type epochStore struct {
	mu  sync.Mutex
	dir string // "" = nothing persisted
	cur uint32 // highest epoch persisted or handed out
}

// openEpoch reads dir/epoch, bumps it by one and persists the result before returning it,
// so every start hands out fencing tokens above those of every earlier run. With dir == ""
// the epoch is the number of 10-second steps since 2026-01-01 (rising across restarts that
// are at least 10 s apart, which the caller logs).
func openEpoch(dir string, now time.Time) (*epochStore, error) {
	if dir == "" {
		steps := now.Sub(epochBase) / epochUnit
		if steps < 1 {
			steps = 1
		}
		if steps > engine.MaxEpoch {
			return nil, fmt.Errorf("%w: clock %v is past the range of clock-derived epochs; use a data dir", ErrEpoch, now)
		}
		return &epochStore{cur: uint32(steps)}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: create data dir: %w", ErrEpoch, err)
	}
	var prev uint64
	b, err := os.ReadFile(filepath.Join(dir, epochFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrEpoch, err)
	default:
		prev, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: %s holds %q: %w", ErrEpoch, filepath.Join(dir, epochFile), b, err)
		}
	}
	if prev >= engine.MaxEpoch {
		return nil, fmt.Errorf("%w: epoch %d cannot be bumped", ErrEpoch, prev)
	}
	st := &epochStore{dir: dir}
	if err := st.persist(uint32(prev + 1)); err != nil {
		return nil, err
	}
	return st, nil
}

// epoch is the epoch handed out at start.
func (st *epochStore) epoch() uint32 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cur
}

// persist records e if it is above what is stored: written to a temp file, fsynced, renamed
// over the old one and the directory fsynced, so a crash leaves either the old or the new value.
func (st *epochStore) persist(e uint32) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if e <= st.cur {
		return nil
	}
	if st.dir == "" {
		st.cur = e
		return nil
	}
	path := filepath.Join(st.dir, epochFile)
	tmp, err := os.CreateTemp(st.dir, epochFile+".tmp*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrEpoch, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	_, err = tmp.WriteString(strconv.FormatUint(uint64(e), 10) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(st.dir)
	}
	if err != nil {
		return fmt.Errorf("%w: write %s: %w", ErrEpoch, path, err)
	}
	st.cur = e
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
