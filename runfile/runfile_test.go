package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	tests := []struct {
		name         string
		cell         Cell
		min          int
		insufficient string // substring; "" means a result
		conclusive   bool
	}{
		{name: "every worker enough", cell: Cell{Workers: 2, Ops: 60, PerWorkerOps: []int64{30, 30}}, conclusive: true},
		{name: "zero ops, zero errors (W=1000 redsync)", cell: Cell{Workers: 1000, Ops: 0, DurationNs: 2e9},
			insufficient: "no worker completed an op in the 2s window"},
		{name: "mean below the minimum", cell: Cell{Workers: 1000, Ops: 2000, PerWorkerOps: make([]int64, 1000)},
			insufficient: "(2.0 per worker)"},
		{name: "mean enough, one worker short", cell: Cell{Workers: 2, Ops: 60, PerWorkerOps: []int64{55, 5}}},
		{name: "scenario minimum", cell: Cell{Workers: 1, Ops: 60, PerWorkerOps: []int64{60}}, min: 100,
			insufficient: "below the minimum of 100 per worker"},
		{name: "no per-worker counts", cell: Cell{Workers: 2, Ops: 60}},
		{name: "failed stays failed", cell: Cell{Workers: 2, Failed: "crash"}},
		{name: "skipped stays skipped", cell: Cell{Workers: 2, Skipped: "no redis"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cell
			c.Conclusive = true // Judge must recompute, not keep
			c.Judge(tt.min)
			if tt.insufficient == "" && c.Insufficient != "" || !strings.Contains(c.Insufficient, tt.insufficient) {
				t.Errorf("Insufficient = %q, want %q", c.Insufficient, tt.insufficient)
			}
			if c.Conclusive != tt.conclusive {
				t.Errorf("Conclusive = %v, want %v", c.Conclusive, tt.conclusive)
			}
			if c.ShowTail() && !c.IsResult() {
				t.Error("tail shown for a cell that is not a result")
			}
		})
	}
}

// A version-1 file still reads, upgraded: its cells are judged with the default minimum, so the
// 0-op redsync cell that version 1 showed as "0 ops/s" is not a result.
func TestReadVersion1(t *testing.T) {
	r, err := Read(filepath.Join("testdata", "v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Schema != Version || r.Config.Duration != Duration(2*time.Second) {
		t.Fatalf("schema %d config %+v", r.Schema, r.Config)
	}
	want := []string{"ok", "insufficient ops"}
	for i, c := range r.Cells {
		if c.Status() != want[i] || c.MinOpsPerWorker != DefaultMinOpsPerWorker {
			t.Errorf("cell %d: status %q min %d (%s)", i, c.Status(), c.MinOpsPerWorker, c.Insufficient)
		}
	}
	if !r.Cells[0].ShowTail() || r.Cells[1].ShowTail() {
		t.Error("tail shown for the wrong cells")
	}
}

// The runs kept in the repository stay readable.
func TestReadRepositoryRuns(t *testing.T) {
	for _, p := range []string{"../results/example", "../results/baseline", "../reports/testdata/run"} {
		r, err := Read(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for _, c := range r.Cells {
			if c.Skipped == "" && c.Failed == "" && !c.IsResult() {
				t.Errorf("%s: %s W=%d: %s", p, c.Backend, c.Workers, c.Insufficient)
			}
		}
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	unc := Percentiles{P50: 1, P90: 2, P99: 3, P999: 4, Max: 5}
	in := &Run{Schema: Version, ID: "20260101T000000Z", Started: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Machine: Machine{Hostname: "h", CPUs: 2}, Versions: map[string]string{"go": "go1.26"}, Commit: "abc",
		Config: Config{Name: "q", Backends: []string{"wwly"}, Workers: []int{2}, Locks: []int{1},
			OpsPerWorker: 100, MaxDuration: Duration(5 * time.Second), MinOpsPerWorker: 30, Repeat: 1},
		Cells: []Cell{{Backend: "wwly", Workers: 2, Locks: 1, Mode: "open", Rate: 100, Ops: 100, OpsPerSec: 10,
			LatencyUncorrected: &unc, PerWorkerOps: []int64{50, 50}, ViolationKinds: &ViolationKinds{}, Hlog: "w.hlog"}}}
	in.Cells[0].Judge(in.Config.MinOps())
	dir := t.TempDir()
	if err := Write(dir, in); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, Name))
	if !bytes.Contains(b, []byte(`"max_duration": "5s"`)) || !bytes.Contains(b, []byte(`"conclusive": true`)) {
		t.Fatalf("written file lacks fields:\n%s", b)
	}
	out, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip changed the run:\n in %+v\nout %+v", in, out)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{`{"schema":3}`, ErrVersion},
		{`{"schema":0}`, ErrVersion},
		{`{}`, ErrVersion},
		{`[`, ErrFormat},
		{`{"schema":2,"cells":[{"backend":""}]}`, ErrFormat},
		{`{"schema":2,"cells":[{"backend":"x","workers":2,"per_worker_ops":[1]}]}`, ErrFormat},
		{`{"schema":2,"cells":[{"backend":"x","ops":-1}]}`, ErrFormat},
		{`{"schema":2,"cells":[{"backend":"x","failed":"f","conclusive":true}]}`, ErrFormat},
		{`{"schema":2,"config":{"hold":"soon"}}`, ErrFormat},
	}
	for _, tt := range tests {
		if _, err := Decode([]byte(tt.in)); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.in, err, tt.want)
		}
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty dir: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Backends: []string{"wwly"}, Workers: []int{1}, Locks: []int{1}, Duration: Duration(time.Second), Repeat: 1}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"fixed window", func(*Config) {}, ""},
		{"ops window", func(c *Config) { c.Duration, c.OpsPerWorker, c.MaxDuration = 0, 50, Duration(time.Minute) }, ""},
		{"ops without cap", func(c *Config) { c.Duration, c.OpsPerWorker = 0, 50 }, "needs max_duration"},
		{"ops window with a minimum", func(c *Config) { c.OpsPerWorker, c.MaxDuration = 50, Duration(time.Minute) }, ""},
		{"minimum above cap", func(c *Config) { c.OpsPerWorker, c.MaxDuration = 50, Duration(time.Millisecond) }, "above max_duration"},
		{"no window", func(c *Config) { c.Duration = 0 }, "duration must be > 0"},
		{"negative min", func(c *Config) { c.MinOpsPerWorker = -1 }, "must be >= 0"},
		{"twice", func(c *Config) { c.Backends = []string{"a", "a"} }, "listed twice"},
		{"zero workers", func(c *Config) { c.Workers = []int{0} }, "workers 0"},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		err := c.Validate()
		if (tt.want == "") != (err == nil) || err != nil && (!strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrScenario)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		in      string
		want    Duration
		wantErr bool
	}{
		{in: `"250ms"`, want: Duration(250 * time.Millisecond)},
		{in: `"0s"`, want: 0},
		{in: `1500`, want: 1500},
		{in: `"fast"`, wantErr: true},
		{in: `"-1s"`, wantErr: true},
		{in: `-5`, wantErr: true},
		{in: `{}`, wantErr: true},
	}
	for _, tt := range tests {
		var d Duration
		err := json.Unmarshal([]byte(tt.in), &d)
		if (err != nil) != tt.wantErr || (err == nil && d != tt.want) {
			t.Errorf("json %s: got %v, %v; want %v (err %v)", tt.in, d, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []string{"testdata/v1.json", "../results/baseline/run.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schema":2,"cells":[{"backend":"x","workers":1,"ops":5}]}`))
	f.Add([]byte(`{"schema":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes and decodes to the same run.
		out, err := Encode(r)
		if err != nil {
			t.Fatalf("decoded run does not encode: %v", err)
		}
		r2, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("re-decode changed the run")
		}
	})
}
