package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Names of the files Render writes into the run directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// Paths lists what Render wrote, relative paths joined to the run directory.
type Paths struct {
	Markdown string
	HTML     string
	Hgrms    []string
}

// Render writes dir/report.md, dir/report.html and, for every cell with a histogram, a .hgrm
// next to its .hlog (values in µs). Each file is written to a temporary name and renamed, so
// a crash never leaves a half-written report in place of a good one. Output is deterministic:
// rendering the same Data twice gives identical bytes.
func Render(dir string, d *Data) (Paths, error) {
	var out Paths
	for _, c := range d.Cells {
		if c.Hist == nil || c.Hlog == "" {
			continue
		}
		var buf bytes.Buffer
		if err := WriteHgrm(&buf, c.Hist, Micros); err != nil {
			return out, err
		}
		p := filepath.Join(dir, hgrmPath(c.Hlog))
		if err := writeFileAtomic(p, buf.Bytes()); err != nil {
			return out, err
		}
		out.Hgrms = append(out.Hgrms, p)
	}

	var md bytes.Buffer
	if err := RenderMarkdown(&md, d); err != nil {
		return out, err
	}
	out.Markdown = filepath.Join(dir, MarkdownFile)
	if err := writeFileAtomic(out.Markdown, md.Bytes()); err != nil {
		return out, err
	}

	var html bytes.Buffer
	if err := RenderHTML(&html, d); err != nil {
		return out, err
	}
	out.HTML = filepath.Join(dir, HTMLFile)
	if err := writeFileAtomic(out.HTML, html.Bytes()); err != nil {
		return out, err
	}
	return out, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("reports: writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("reports: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("reports: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}
