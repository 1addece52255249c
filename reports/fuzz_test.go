package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadHlog: any bytes give a histogram or an error, never a panic or an endless loop.
func FuzzReadHlog(f *testing.F) {
	dir := f.TempDir()
	o := defaultSynth(11)
	o.Backends, o.Workers = []string{"wwly"}, []int{1}
	writeSynthRun(f, dir, o)
	valid, err := os.ReadFile(filepath.Join(dir, "wwly-w1-l1-r1.hlog"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte(""))
	f.Add([]byte("#[StartTime: 1.5 (seconds since epoch)]\n"))
	f.Add([]byte("Tag=x\n"))
	f.Add([]byte("Tag=a,0.0,1.0,0.1,HISTFAAAA\n"))
	f.Add([]byte("1,2,3,\n"))
	f.Add(valid[:len(valid)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		h, ivs, err := ReadHlog(bytes.NewReader(b))
		if err != nil {
			return
		}
		var total int64
		for _, iv := range ivs {
			total += iv.Count
		}
		if h == nil {
			if total != 0 {
				t.Fatalf("no histogram but %d counts in intervals", total)
			}
			return
		}
		if h.TotalCount() != total {
			t.Fatalf("merged count %d, intervals sum %d", h.TotalCount(), total)
		}
		var out bytes.Buffer
		if err := WriteHgrm(&out, h, Micros); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzLoadRunJSON: any run.json is loaded or refused with an error, and whatever loads renders.
func FuzzLoadRunJSON(f *testing.F) {
	f.Add([]byte(`{"schema":1,"cells":[{"backend":"wwly","workers":1,"mode":"closed","hlog":"../x"}]}`))
	f.Add([]byte(`{"schema":1,"config":{"hold":"1ms","workers":[0]},"cells":[{"backend":"a|b","workers":0,"skipped":"x"}]}`))
	f.Add([]byte(`{"schema":1,"cells":[{"backend":"wwly","mode":"open","rate":-1,"ops_per_sec":1e308}]}`))
	f.Add([]byte(`{"schema":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, RunFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Load(dir)
		if err != nil {
			return
		}
		var md bytes.Buffer
		if err := RenderMarkdown(&md, d); err != nil {
			t.Fatal(err)
		}
	})
}
