package loadgen

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// --scenario works from any directory: a file when one is there, else an embedded scenario by
// name; anything else is an error naming the embedded ones.
func TestLoadScenarioEmbedded(t *testing.T) {
	t.Chdir(t.TempDir()) // no bench/scenarios here
	if err := os.WriteFile("mine.yaml", []byte("name: mine\nbackends: [none]\nworkers: [1]\nlocks: [1]\nduration: 1s\nrepeat: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory named like an embedded scenario (the repository root has gate/) is not a file.
	for _, d := range []string{"gate", "somedir"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		arg, wantName, wantErr string
	}{
		{arg: "gate", wantName: "gate"},
		{arg: "somedir", wantErr: "is a directory"},
		{arg: "quick", wantName: "quick"},
		{arg: "full.yaml", wantName: "full"},
		{arg: "bench/scenarios/gate.yaml", wantName: "gate"},
		{arg: "mine.yaml", wantName: "mine"},
		{arg: "nope", wantErr: "embedded: full, gate, primitives, quick"},
		{arg: "elsewhere/quick.yaml", wantErr: "neither a file nor an embedded scenario"},
	}
	for _, tt := range tests {
		s, err := LoadScenario(tt.arg)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrScenario) {
				t.Errorf("%s: err %v, want %q", tt.arg, err, tt.wantErr)
			}
		case err != nil || s.Name != tt.wantName:
			t.Errorf("%s: %q, %v; want %q", tt.arg, s.Name, err, tt.wantName)
		}
	}
	dir := t.TempDir()
	p, err := ScenarioFile("gate", dir)
	if err != nil || p != filepath.Join(dir, "gate.yaml") {
		t.Fatalf("ScenarioFile(gate) = %q, %v", p, err)
	}
	if s, err := LoadScenario(p); err != nil || s.Name != "gate" {
		t.Fatalf("written gate scenario: %+v %v", s, err)
	}
	if p, err := ScenarioFile("mine.yaml", dir); err != nil || !filepath.IsAbs(p) {
		t.Fatalf("ScenarioFile(file) = %q, %v", p, err)
	}
}

// `make bench` runs full then scale; issue 7 wants it within 15 minutes, every backend up to
// W=1000 and wwly at 2000. The windows' upper bound (warm-up + cap per cell) must leave a third of
// that for spawning and servers.
func TestBenchScenariosFitFifteenMinutes(t *testing.T) {
	full, err := LoadScenario("full")
	if err != nil {
		t.Fatal(err)
	}
	scale, err := LoadScenario("scale")
	if err != nil {
		t.Fatal(err)
	}
	if got := full.Estimate() + scale.Estimate(); got > 10*time.Minute {
		t.Errorf("full + scale windows take up to %v; want ≤ 10m so spawning fits in 15m", got)
	}
	if !slices.Contains(full.Workers, 1000) || len(full.Backends) < 9 {
		t.Errorf("full covers W %v for %v; want 1000 for every backend", full.Workers, full.Backends)
	}
	if !slices.Equal(scale.Backends, []string{"wwly"}) || !slices.Contains(scale.Workers, 2000) {
		t.Errorf("scale runs %v at W %v; want wwly at 2000", scale.Backends, scale.Workers)
	}
	for _, s := range []Scenario{full, scale} {
		if s.OpsPerWorker == 0 || s.MinOps() < 20 {
			t.Errorf("%s: windows not sized by ops, or a minimum under 20 ops per worker", s.Name)
		}
	}
}

// TestDocScenarios: the scenario files the docs and notes name as the command behind a figure
// still load (a renamed key would otherwise surface only when someone reruns them).
func TestDocScenarios(t *testing.T) {
	sc, err := LoadScenario("../docs/scenarios/fanout-w1000.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Workload != "fanout" || !slices.Equal(sc.Workers, []int{1000}) {
		t.Errorf("fanout-w1000.yaml: workload %q at W %v; want fanout at 1000", sc.Workload, sc.Workers)
	}
}
