package reports

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wwly/wwly/loadgen"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden and the committed sample run")

// goldenSeed seeds every synthetic input the golden files are rendered from.
const goldenSeed = 1

// sampleRunDir is a committed synthetic run directory: real `wwly report` input, kept small.
const sampleRunDir = "testdata/run"

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./reports -update` to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (seed %d); run `go test ./reports -update` if the change is intended.\n%s",
			name, goldenSeed, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first differing line, which is what one needs to read a golden failure.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + w + "\n  got: " + g
		}
	}
	return "(no line differs)"
}

// renderSynth writes a seeded synthetic run into a fresh directory, loads and renders it.
func renderSynth(t *testing.T, o synthOptions) (string, *Data, Paths) {
	t.Helper()
	dir := t.TempDir()
	writeSynthRun(t, dir, o)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Render(dir, d)
	if err != nil {
		t.Fatal(err)
	}
	return dir, d, paths
}

// renderSample copies the committed sample run into a fresh directory, loads and renders it:
// the same input as renderSynth(t, sampleSynth()) (TestSampleRun keeps them equal), without
// generating it again.
func renderSample(t *testing.T) (string, *Data, Paths) {
	t.Helper()
	dir := t.TempDir()
	if *update {
		writeSynthRun(t, dir, sampleSynth()) // the sample itself may be stale until TestSampleRun
	} else if err := os.CopyFS(dir, os.DirFS(sampleRunDir)); err != nil {
		t.Fatal(err)
	}
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := Render(dir, d)
	if err != nil {
		t.Fatal(err)
	}
	return dir, d, paths
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenMarkdownAndHgrm(t *testing.T) {
	t.Logf("seed %d", goldenSeed)
	dir, d, paths := renderSample(t)
	// The scenario YAML in "Reproduce" lists every Scenario field, so it changes whenever the
	// schema grows; it is checked by TestReproduceRoundTrips instead of the golden file.
	md := strings.Replace(string(readFile(t, paths.Markdown)), d.Reproduce(), "(see TestReproduceRoundTrips)\n", 1)
	checkGolden(t, "report.md.golden", []byte(md))
	checkGolden(t, "wwly-w8.hgrm.golden", readFile(t, filepath.Join(dir, "wwly-w8-l1-r1.hgrm")))
}

// TestReproduceRoundTrips: the scenario file in the reproduce commands reads back as the run's
// configuration, so `wwly bench --scenario` re-runs exactly what was measured.
func TestReproduceRoundTrips(t *testing.T) {
	o := defaultSynth(goldenSeed)
	o.Backends, o.Workers, o.Repeat = []string{"wwly", "etcd"}, []int{1, 8}, 2
	dir := t.TempDir()
	writeSynthRun(t, dir, o)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Run.Config.ServerArgs = []string{"--flush-batch=64"}
	d.Run.Config.Rate = 250.5
	repro := d.Reproduce()
	m := regexp.MustCompile(`(?s)cat > (\S+) <<'EOF'\n(.*)EOF\n\./bin/wwly bench --scenario (\S+)\n`).FindStringSubmatch(repro)
	if m == nil || m[1] != m[3] {
		t.Fatalf("reproduce commands do not write and use a scenario file:\n%s", repro)
	}
	var got loadgen.Scenario
	dec := yaml.NewDecoder(strings.NewReader(m[2]))
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("scenario does not parse: %v\n%s", err, m[2])
	}
	if !reflect.DeepEqual(got, d.Run.Config) {
		t.Errorf("scenario reads back as\n%+v\nwant\n%+v", got, d.Run.Config)
	}
	if !strings.HasPrefix(repro, "git checkout "+d.Run.Commit+"\n") {
		t.Errorf("reproduce does not check out the commit:\n%s", repro)
	}
}

// TestHTMLStructure checks what does not depend on font metrics: the sections, one figure per
// expected plot, and that nothing is loaded from outside the file.
func TestHTMLStructure(t *testing.T) {
	_, _, paths := renderSample(t)
	html := string(readFile(t, paths.HTML))
	for _, id := range []string{"problems", "results", "spectrum", "sweep", "timeline", "skipped", "machine", "reproduce"} {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf("html has no section %q", id)
		}
	}
	// 3 worker groups: 3 spectra + 3 timelines; 1 series (locks=1 hold=0 closed): 3 sweeps.
	const wantPlots = 9
	if n := strings.Count(html, "<svg"); n != wantPlots {
		t.Errorf("html has %d <svg> plots, want %d", n, wantPlots)
	}
	if n := strings.Count(html, "<figure>"); n != wantPlots {
		t.Errorf("html has %d figures, want %d", n, wantPlots)
	}
	for _, bad := range []string{"<script", "<link", "<img", "@import", `src="http`, `href="http`, "url(http"} {
		if strings.Contains(html, bad) {
			t.Errorf("html is not self-contained: contains %q", bad)
		}
	}
	for _, want := range []string{"worker 17 exited: signal: killed", "etcd not found in PATH", "PROBLEMS", "90%", "99.9%", "Jain fairness vs workers"} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(html, "<?xml") {
		t.Error("html embeds an XML prolog from the SVG")
	}
}

// TestRenderDeterministic renders the same run twice, in two directories, and wants identical
// bytes for every output file (the HTML included: same process, same fonts).
func TestRenderDeterministic(t *testing.T) {
	o := defaultSynth(7)
	o.Repeat = 2
	o.Workers = []int{1, 64}
	o.Violations = map[string]int64{"flock/64": 3}
	dirA, _, pa := renderSynth(t, o)
	dirB, _, pb := renderSynth(t, o)
	files := append([]string{pa.Markdown, pa.HTML}, pa.Hgrms...)
	if len(pa.Hgrms) != len(pb.Hgrms) || len(pa.Hgrms) == 0 {
		t.Fatalf("hgrm files: %d vs %d", len(pa.Hgrms), len(pb.Hgrms))
	}
	for _, fa := range files {
		rel, _ := filepath.Rel(dirA, fa)
		a, b := readFile(t, fa), readFile(t, filepath.Join(dirB, rel))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two renders: %s", rel, firstDiff(string(a), string(b)))
		}
	}
	// And re-rendering in place (the report is a pure function of the run) changes nothing.
	d, err := Load(dirA)
	if err != nil {
		t.Fatal(err)
	}
	before := readFile(t, pa.Markdown)
	if _, err := Render(dirA, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, readFile(t, pa.Markdown)) {
		t.Error("re-rendering in place changed report.md")
	}
	md := string(before)
	for _, want := range []string{"flock #2", "**VIOLATIONS** flock #1 @ workers=64", "| **3** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestSampleRun keeps the committed sample run directory loadable and equal to what the
// seeded generator writes, so it is a faithful input for `wwly report testdata/run`.
func TestSampleRun(t *testing.T) {
	if *update {
		if err := os.RemoveAll(sampleRunDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(sampleRunDir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeSynthRun(t, sampleRunDir, sampleSynth())
	}
	fresh := t.TempDir()
	writeSynthRun(t, fresh, sampleSynth())
	entries, err := os.ReadDir(fresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == RunFile {
			continue // compared decoded below: new schema fields must not make it stale
		}
		got := readFile(t, filepath.Join(fresh, e.Name()))
		want, err := os.ReadFile(filepath.Join(sampleRunDir, e.Name()))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/%s is stale or missing (run `go test ./reports -update`)", sampleRunDir, e.Name())
		}
	}
	d, err := Load(sampleRunDir)
	if err != nil {
		t.Fatal(err)
	}
	df, err := Load(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Run, df.Run) {
		t.Errorf("%s/%s decodes differently from the generator's (run `go test ./reports -update`)", sampleRunDir, RunFile)
	}
	if len(d.Cells) != 15 {
		t.Errorf("sample run has %d cells, want 15", len(d.Cells))
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		runJSON string // "" means no run.json at all
		want    error
	}{
		{"missing", "", ErrNoRun},
		{"not json", "{", ErrBadRun},
		{"wrong schema", `{"schema": 99}`, ErrBadRun},
		{"bad duration", `{"schema": 1, "config": {"hold": "soon"}}`, ErrBadRun},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.runJSON != "" {
				if err := os.WriteFile(filepath.Join(dir, RunFile), []byte(tt.runJSON), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(dir)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestBadHlogIsReported: a broken or escaping hlog does not stop the report; it is listed as
// a problem next to its cell.
func TestBadHlogIsReported(t *testing.T) {
	tests := []struct {
		name, hlog, content string
	}{
		{"garbage payload", "wwly-w1-l1-r1.hlog", "0.000,1.000,0.1,HISTFAAAAnotbase64!!\n"},
		{"missing file", "", ""},
		{"outside the run dir", "../../etc/passwd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := defaultSynth(3)
			o.Backends, o.Workers = []string{"wwly"}, []int{1}
			writeSynthRun(t, dir, o)
			hlog := filepath.Join(dir, "wwly-w1-l1-r1.hlog")
			switch {
			case tt.content != "":
				if err := os.WriteFile(hlog, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			case tt.hlog == "":
				if err := os.Remove(hlog); err != nil {
					t.Fatal(err)
				}
			default:
				b := readFile(t, filepath.Join(dir, RunFile))
				b = bytes.Replace(b, []byte(`"wwly-w1-l1-r1.hlog"`), []byte(`"`+tt.hlog+`"`), 1)
				if err := os.WriteFile(filepath.Join(dir, RunFile), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(d.Cells[0].HlogErr, ErrBadHlog) {
				t.Fatalf("HlogErr = %v, want ErrBadHlog", d.Cells[0].HlogErr)
			}
			var md bytes.Buffer
			if err := RenderMarkdown(&md, d); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(md.String(), "**HLOG** wwly @ workers=1") {
				t.Errorf("report does not flag the bad hlog:\n%s", md.String())
			}
			if _, err := Render(dir, d); err != nil {
				t.Fatalf("Render with a bad hlog: %v", err)
			}
		})
	}
}

func TestMarkdownEscapesFreeText(t *testing.T) {
	dir := t.TempDir()
	o := defaultSynth(5)
	o.Backends, o.Workers = []string{"wwly", "tcp-echo"}, []int{1}
	o.Failed = map[string]string{"wwly/1": "boom | *not bold*\n<b>x</b>"}
	writeSynthRun(t, dir, o)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := RenderMarkdown(&md, d); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| wwly \|.*$`).FindString(md.String())
	if want := `| wwly | **FAILED: boom \| \*not bold\* &lt;b&gt;x&lt;/b&gt;** |`; !strings.HasPrefix(row, want) {
		t.Errorf("failed row = %q, want prefix %q", row, want)
	}
	var html bytes.Buffer
	if err := RenderHTML(&html, d); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "<b>x</b>") {
		t.Error("html does not escape a failure reason")
	}
}

func TestFormatters(t *testing.T) {
	tests := []struct{ got, want string }{
		{fmtLatency(999), "<1µs"},
		{fmtLatency(1500), "1.5µs"},
		{fmtLatency(2_345_678), "2.35ms"},
		{fmtLatency(3_000_000_000), "3s"},
		{latencyLabel(1), "1µs"},
		{latencyLabel(20), "20µs"},
		{latencyLabel(5e5), "500ms"},
		{floorLabel(true, minLatencyUs), "≤1µs"},
		{floorLabel(false, minLatencyUs), ""},
		{countLabel(20e3), "20k"},
		{fmtOps(0), "0"},
		{fmtOps(1234567.4), "1,234,567"},
		{fmtOps(-1000), "-1,000"},
		{fmtRatio(3, 2), "1.50×"},
		{fmtRatio(3, 0), "—"},
		{fmtRatio(1171, 10), "117×"},
		{fmtRatio(43, 10000), "0.0043×"},
		{fmtRatio(0, 5), "0.00×"},
		{percentileLabel(0), "0%"},
		{percentileLabel(1), "90%"},
		{percentileLabel(2), "99%"},
		{percentileLabel(4), "99.99%"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

// TestOpenLoopSeries: two lock counts make two "vs workers" series; open loop shows the
// uncorrected p99 next to the corrected one.
func TestOpenLoopSeries(t *testing.T) {
	o := defaultSynth(9)
	o.Backends = []string{"wwly", "tcp-echo"}
	o.Workers = []int{1, 8}
	o.Locks = []int{1, 16}
	o.Rate = 500
	o.Skipped, o.Failed = nil, nil
	_, d, paths := renderSynth(t, o)
	if n := len(d.Groups()); n != 4 {
		t.Fatalf("%d groups, want 4", n)
	}
	html := string(readFile(t, paths.HTML))
	// 4 groups × (spectrum + timeline) + 2 series × 3 sweeps.
	if n, want := strings.Count(html, "<svg"), 4*2+2*3; n != want {
		t.Errorf("%d plots, want %d", n, want)
	}
	md := string(readFile(t, paths.Markdown))
	for _, want := range []string{
		"### workers=1 locks=16 hold=0s open rate=500/s per worker",
		"Open loop: latency is measured from each request's intended start",
		"No failed cells, no mutual-exclusion violations.",
		"None: every configured backend ran.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}
