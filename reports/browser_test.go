//go:build unix

package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The browser test opens report.html in a real headless Chromium: the page must load without
// a console message or error, and every plot must be laid out and drawn. A golden file checks
// the bytes; only a browser checks that the bytes make a page.

// browserTimeout bounds one Chromium run. A quiet box needs a few seconds; a box loaded by
// parallel builds has been seen to need 40 s just to start Chromium.
const browserTimeout = 2 * time.Minute

// chromiumNames are the executables tried, in order, after $WWLY_CHROMIUM.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns the browser to drive, or "" when none is installed.
func findChromium() string {
	if p := os.Getenv("WWLY_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// probeHead and probeTail instrument a copy of the page (the report itself has no script, and
// must not). probeHead, first in <head>, records every error event (scripts, failed loads) and
// console.error/warn call; probeTail, on load, measures each <svg> and writes the findings into
// the DOM as JSON, where --dump-dom returns them.
const (
	probeHead = `<script>
window.__wwlyErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.__wwlyErrors.push(e.message || ("failed to load " + (t.src || t.href || t.tagName)));
}, true);
["error", "warn"].forEach(function (level) {
  var orig = console[level];
  console[level] = function () {
    window.__wwlyErrors.push("console." + level + ": " + Array.prototype.join.call(arguments, " "));
    orig.apply(console, arguments);
  };
});
</script>`
	probeTail = `<pre id="wwly-check"></pre>
<script>
window.addEventListener("load", function () {
  var out = {figures: document.querySelectorAll("figure").length, svgs: [], errors: window.__wwlyErrors};
  document.querySelectorAll("svg").forEach(function (svg) {
    var fig = svg.closest("figure"), cap = fig && fig.querySelector("figcaption");
    var r = svg.getBoundingClientRect(), b = svg.getBBox();
    var drawn = 0;
    svg.querySelectorAll("path").forEach(function (p) {
      var pb = p.getBBox();
      if (pb.width > 0 || pb.height > 0) { drawn++; }
    });
    out.svgs.push({
      caption: cap ? cap.textContent : "",
      width: r.width, height: r.height, bboxWidth: b.width, bboxHeight: b.height,
      paths: drawn, texts: svg.querySelectorAll("text").length
    });
  });
  document.getElementById("wwly-check").textContent = JSON.stringify(out);
});
</script>`
)

// browserCheck is what probeTail writes (JSON field names match case-insensitively).
type browserCheck struct {
	Figures int
	SVGs    []svgCheck
	Errors  []string
}

type svgCheck struct {
	Caption                              string
	Width, Height, BBoxWidth, BBoxHeight float64
	Paths, Texts                         int
}

var checkRe = regexp.MustCompile(`(?s)<pre id="wwly-check">(.*?)</pre>`)

// runChromium runs the browser on a file URL with extra flags and returns stdout and stderr.
// The browser runs in its own process group with its own profile, and the whole group is killed
// when the run ends, so no renderer outlives the test.
func runChromium(t *testing.T, bin, page string, flags ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	args := append([]string{
		"--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync", "--disable-component-update",
		"--disable-default-apps", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(),
		// Console messages go to stderr ("INFO:CONSOLE"): the report has no script, so any is a fault.
		"--enable-logging=stderr", "--v=0",
	}, flags...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // stragglers of the group, if any
	}
	t.Logf("%s %s: %v", filepath.Base(bin), flags, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("chromium did not finish within %v\nstderr:\n%s", browserTimeout, tail(errb.String(), 40))
	}
	if err != nil {
		t.Fatalf("chromium: %v\nstderr:\n%s", err, tail(errb.String(), 40))
	}
	return out.Bytes(), errb.Bytes()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// consoleLines returns Chromium's logged console messages.
func consoleLines(stderr []byte) []string {
	var out []string
	for _, l := range strings.Split(string(stderr), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			out = append(out, l)
		}
	}
	return out
}

func TestReportInBrowser(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		t.Skipf("no Chromium (tried $WWLY_CHROMIUM, %s): install it to check report.html in a real browser "+
			"(Debian: apt-get install chromium; scripts/deps.sh does it)", strings.Join(chromiumNames, ", "))
	}
	dir, d, paths := renderSample(t)
	figs, err := Figures(d)
	if err != nil {
		t.Fatal(err)
	}
	page := readFile(t, paths.HTML)
	probed := bytes.Replace(page, []byte("<head>"), []byte("<head>\n"+probeHead), 1)
	probed = bytes.Replace(probed, []byte("</body>"), []byte(probeTail+"\n</body>"), 1)
	if bytes.Equal(probed, page) || !bytes.Contains(probed, []byte(probeHead)) || !bytes.Contains(probed, []byte(`id="wwly-check"`)) {
		t.Fatal("report.html has no <head> or </body> to instrument")
	}
	check := filepath.Join(dir, "report-check.html")
	if err := os.WriteFile(check, probed, 0o644); err != nil {
		t.Fatal(err)
	}

	dom, stderr := runChromium(t, bin, check, "--dump-dom")
	if lines := consoleLines(stderr); len(lines) > 0 {
		t.Errorf("the page logged to the console:\n%s", strings.Join(lines, "\n"))
	}
	m := checkRe.FindSubmatch(dom)
	if m == nil || len(bytes.TrimSpace(m[1])) == 0 {
		t.Fatalf("the check did not run (no result in the DOM); stderr:\n%s", tail(string(stderr), 40))
	}
	var got browserCheck
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
		t.Fatalf("check result %q: %v", m[1], err)
	}
	if len(got.Errors) > 0 {
		t.Errorf("errors while loading the page:\n%s", strings.Join(got.Errors, "\n"))
	}
	if got.Figures != len(figs) || len(got.SVGs) != len(figs) {
		t.Errorf("%d figures and %d <svg> in the browser, want %d plots", got.Figures, len(got.SVGs), len(figs))
	}
	for i, s := range got.SVGs {
		want := ""
		if i < len(figs) {
			want = figs[i].Title
		}
		switch {
		case s.Caption != want:
			t.Errorf("plot %d: caption %q, want %q", i, s.Caption, want)
		case s.Width < 200 || s.Height < 100:
			t.Errorf("plot %q is laid out %.0f×%.0f px: not visible", s.Caption, s.Width, s.Height)
		case s.BBoxWidth <= 0 || s.BBoxHeight <= 0 || s.Paths < 3 || s.Texts < 4:
			// Axes alone are 2 paths plus tick labels; a plot with data has lines on top.
			t.Errorf("plot %q is not drawn: bbox %.0f×%.0f, %d paths, %d texts", s.Caption, s.BBoxWidth, s.BBoxHeight, s.Paths, s.Texts)
		}
	}

	// For a person: WWLY_REPORT_SCREENSHOT=/tmp/report.png keeps a picture of the real page.
	if shot := os.Getenv("WWLY_REPORT_SCREENSHOT"); shot != "" {
		abs, err := filepath.Abs(shot)
		if err != nil {
			t.Fatal(err)
		}
		runChromium(t, bin, paths.HTML, "--window-size=1200,1600", "--screenshot="+abs)
		if _, err := os.Stat(abs); errors.Is(err, os.ErrNotExist) {
			t.Errorf("no screenshot written to %s", abs)
		}
	}
}
