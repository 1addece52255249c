package loadgen

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// TestDurationYAML: the text forms (JSON) are runfile's to test; YAML is the harness's.
func TestDurationYAML(t *testing.T) {
	y, _ := yaml.Marshal(struct{ D Duration }{Duration(3 * time.Second)})
	if strings.TrimSpace(string(y)) != "d: 3s" {
		t.Fatalf("yaml marshal = %q", y)
	}
}

func TestScenarioYAML(t *testing.T) {
	s, err := ParseScenario([]byte("name: x\nbackends: [wwly, none]\nworkers: [1, 8]\nlocks: [1]\nhold: 10us\nduration: 2s\nwarmup: 500ms\nrepeat: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Hold != Duration(10*time.Microsecond) || s.Duration != Duration(2*time.Second) || s.Cells() != 8 {
		t.Fatalf("parsed %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseScenario([]byte("name: x\nduraton: 2s\n")); err == nil {
		t.Fatal("a misspelt key was accepted")
	}
	if _, err := ParseScenario([]byte("hold: soon\n")); err == nil {
		t.Fatal("a bad duration was accepted")
	}
	bad := s
	bad.Workers = []int{0}
	if err := bad.Validate(); err == nil {
		t.Fatal("0 workers validated")
	}
}

func TestRunRoundTrip(t *testing.T) {
	unc := Percentiles{P50: 1, P90: 2, P99: 3, P999: 4, Max: 5}
	in := Run{Schema: SchemaVersion, ID: "20260101T000000Z", Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Machine: Machine{Hostname: "h", CPUs: 2, MemBytes: 1 << 30}, Versions: map[string]string{"go": "go1.26"},
		Commit: "abc", Config: Scenario{Name: "q", Backends: []string{"wwly"}, Workers: []int{8}, Locks: []int{1},
			Hold: Duration(time.Microsecond), Duration: Duration(time.Second), Repeat: 1, Seed: 7},
		Cells: []Cell{{Backend: "wwly", Workers: 8, Locks: 1, Mode: "open", Rate: 100, Ops: 10, OpsPerSec: 10,
			Latency: Percentiles{P50: 10, P99: 20, Max: 30}, LatencyUncorrected: &unc, PerWorkerOps: []int64{1, 9},
			ViolationKinds: &ViolationKinds{LostUpdates: 1}, Violations: 1, Hlog: "wwly-w8-l1-r0.hlog"}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"hold":"1µs"`) {
		t.Fatalf("durations not written as text: %s", b)
	}
	var out Run
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the run:\n in %+v\nout %+v", in, out)
	}
}

func FuzzDurationJSON(f *testing.F) {
	for _, s := range []string{`"250ms"`, `"1h"`, `12`, `"x"`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Duration
		if json.Unmarshal(b, &d) != nil {
			return
		}
		if d < 0 {
			t.Fatalf("negative duration %v from %q", d, b)
		}
		out, _ := json.Marshal(d)
		var d2 Duration
		if err := json.Unmarshal(out, &d2); err != nil || d2 != d {
			t.Fatalf("re-read %s: %v %v", out, d2, err)
		}
	})
}

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte("name: q\nbackends: [a]\nworkers: [1]\nlocks: [1]\nduration: 1s\nrepeat: 1\n"))
	f.Add([]byte("hold: [1]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScenario(b)
		if err == nil {
			_ = s.Validate()
		}
	})
}
