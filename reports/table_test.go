package reports

import (
	"bytes"
	"strings"
	"testing"
)

// A failed cell's reason (a server's whole start-up log, say) is cut in the table, spans the
// row in HTML, and stays whole in the PROBLEMS list.
func TestFailedRowIsShortAndSpans(t *testing.T) {
	o := defaultSynth(13)
	o.Backends, o.Workers, o.Skipped = []string{"wwly", "redis"}, []int{1}, nil
	long := "start: redis-server not ready: " + strings.Repeat("log line | ", 60) + "END"
	o.Failed = map[string]string{"redis/1": long}
	dir := t.TempDir()
	writeSynthRun(t, dir, o)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var md, html bytes.Buffer
	if err := RenderMarkdown(&md, d); err != nil {
		t.Fatal(err)
	}
	if err := RenderHTML(&html, d); err != nil {
		t.Fatal(err)
	}
	row := ""
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| redis |") {
			row = l
		}
	}
	if !strings.Contains(row, "… (see PROBLEMS)") || strings.Contains(row, "END") || len([]rune(row)) > maxReasonInTable+100 {
		t.Errorf("table row not shortened (%d runes): %s", len([]rune(row)), row)
	}
	if !strings.Contains(md.String(), "END") {
		t.Error("the PROBLEMS list lost the end of the reason")
	}
	if want := `<td class="span" colspan="13"><strong>FAILED: start: redis-server not ready`; !strings.Contains(html.String(), want) {
		t.Errorf("html lacks %q", want)
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"µµµµµµ", 3, "µµµ… (see PROBLEMS)"},
	}
	for _, tt := range tests {
		if got := shorten(tt.in, tt.n); got != tt.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
