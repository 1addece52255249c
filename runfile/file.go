package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Errors of Read, Decode and Validate; test with errors.Is.
var (
	// ErrNotFound means there is no run.json where one was asked for.
	ErrNotFound = errors.New("runfile: no run.json")
	// ErrFormat means run.json does not decode or breaks a rule of its schema.
	ErrFormat = errors.New("runfile: bad run.json")
	// ErrVersion means run.json has a schema version this build does not read. It wraps ErrFormat.
	ErrVersion = fmt.Errorf("%w: unsupported schema version", ErrFormat)
)

// maxFileBytes bounds what Decode accepts: a 2000-worker, 100-cell run is a few MB.
const maxFileBytes = 256 << 20

// Read loads, upgrades (see Decode) and validates dir/run.json, or path itself when it names a
// file.
func Read(path string) (*Run, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, Name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, fmt.Errorf("runfile: %w", err)
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Decode parses a run.json document of any version from MinVersion to Version, upgrades it to
// Version in memory (a version-1 cell is judged with DefaultMinOpsPerWorker), and validates it.
// Unknown fields are ignored so a newer writer's additions do not break an older reader.
func Decode(b []byte) (*Run, error) {
	if len(b) > maxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, len(b))
	}
	var head struct {
		Schema int `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if head.Schema < MinVersion || head.Schema > Version {
		return nil, fmt.Errorf("%w: schema %d, this build reads %d to %d", ErrVersion, head.Schema, MinVersion, Version)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if r.Schema == 1 {
		for i := range r.Cells {
			r.Cells[i].Judge(DefaultMinOpsPerWorker)
		}
		r.Schema = Version
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks what readers rely on: a known version and sane counts. It does not judge hlog
// paths: a reader opening one must keep it inside the run directory itself (reports does), and
// one bad cell must not hide the rest of a run.
func (r *Run) Validate() error {
	if r.Schema != Version {
		return fmt.Errorf("%w: schema %d in memory, want %d", ErrVersion, r.Schema, Version)
	}
	for i := range r.Cells {
		c := &r.Cells[i]
		where := fmt.Sprintf("cell %d (%s W=%d L=%d)", i, c.Backend, c.Workers, c.Locks)
		switch {
		case c.Backend == "":
			return fmt.Errorf("%w: %s: no backend", ErrFormat, where)
		case c.Workers < 0 || c.Locks < 0 || c.Ops < 0 || c.Errors < 0 || c.Violations < 0 || c.DurationNs < 0:
			return fmt.Errorf("%w: %s: negative count", ErrFormat, where)
		case len(c.PerWorkerOps) > 0 && len(c.PerWorkerOps) != c.Workers:
			return fmt.Errorf("%w: %s: %d per-worker counts for %d workers", ErrFormat, where, len(c.PerWorkerOps), c.Workers)
		case c.Conclusive && !c.IsResult():
			return fmt.Errorf("%w: %s: conclusive but not a result", ErrFormat, where)
		}
	}
	return nil
}

// Encode renders r as indented JSON with a trailing newline, after validating it.
func Encode(r *Run) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("runfile: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// Write stores r as dir/run.json atomically (a temp file renamed over it), so a reader never sees
// half a file even while a run rewrites it after every backend.
func Write(dir string, r *Run) error {
	b, err := Encode(r)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, Name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("runfile: write: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, Name)); err != nil {
		return fmt.Errorf("runfile: write: %w", err)
	}
	return nil
}
