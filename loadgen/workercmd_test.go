package loadgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Which worker process a backend gets: the lean one when it links the backend, else the full
// one, else `wwly worker`; only executable files count.
func TestWorkerCommandFor(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]os.FileMode
		backend string
		want    string
	}{
		{name: "nothing beside", backend: "wwly", want: "wwly worker"},
		{name: "lean for wwly", files: map[string]os.FileMode{LeanWorkerName: 0o755, NetWorkerName: 0o755},
			backend: "wwly", want: LeanWorkerName},
		{name: "net for redsync", files: map[string]os.FileMode{LeanWorkerName: 0o755, NetWorkerName: 0o755},
			backend: "redsync", want: NetWorkerName},
		{name: "redis for redsync", files: map[string]os.FileMode{LeanWorkerName: 0o755, RedisWorkerName: 0o755, NetWorkerName: 0o755},
			backend: "redsync", want: RedisWorkerName},
		{name: "net for etcd", files: map[string]os.FileMode{LeanWorkerName: 0o755, RedisWorkerName: 0o755, NetWorkerName: 0o755},
			backend: "etcd", want: NetWorkerName},
		{name: "lean before redis for flock", files: map[string]os.FileMode{LeanWorkerName: 0o755, RedisWorkerName: 0o755},
			backend: "flock", want: LeanWorkerName},
		{name: "lean only, redsync falls back", files: map[string]os.FileMode{LeanWorkerName: 0o755},
			backend: "redsync", want: "wwly worker"},
		{name: "net serves flock when lean is missing", files: map[string]os.FileMode{NetWorkerName: 0o755},
			backend: "flock", want: NetWorkerName},
		{name: "not executable", files: map[string]os.FileMode{LeanWorkerName: 0o644}, backend: "wwly", want: "wwly worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "wwly")
			for n, mode := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), mode); err != nil {
					t.Fatal(err)
				}
			}
			cmd, path := WorkerCommandFor(bin, tt.backend)
			if !strings.HasSuffix(path, tt.want) {
				t.Fatalf("path %q, want …%s", path, tt.want)
			}
			if c := cmd(); !strings.HasSuffix(strings.Join(c.Args, " "), tt.want) {
				t.Fatalf("command %v, want …%s", c.Args, tt.want)
			}
		})
	}
}
