package tune

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/wwly/wwly/gate"
)

// WriteMarkdown renders the sweep as tune.md: one table row per configuration and lock cell
// (Pareto points marked), then the front and the recommendation per cell with the rule.
func WriteMarkdown(w io.Writer, r Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# wwly tune\n\n")
	if r.Scenario != "" {
		fmt.Fprintf(&b, "Scenario: `%s`. ", r.Scenario)
	}
	fmt.Fprintf(&b, "%d configurations.\n\n", len(r.Runs))
	fmt.Fprintf(&b, "| server args | cell | ops/s | p50 | p99 | ops/s ÷ %[1]s | p99 ÷ %[1]s | Pareto |\n|---|---|---:|---:|---:|---:|---:|---|\n", RefBackend)
	for _, run := range r.Runs {
		cfg := run.Config
		if cfg == "" {
			cfg = "(defaults)"
		}
		if run.Error != "" {
			fmt.Fprintf(&b, "| `%s` | error: %s | | | | | | |\n", cfg, oneLine(run.Error))
			continue
		}
		for _, p := range run.Points {
			mark := ""
			if p.Pareto {
				mark = "*"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %.0f | %s | %s | %s | %s | %s |\n", cfg, p.Cell, p.Ops, gate.FormatNs(p.P50), gate.FormatNs(p.P99),
				ratio(p.OpsRatio), ratio(p.P99Ratio), mark)
		}
	}
	fmt.Fprintf(&b, "\nRatios are to the %s cell of the same workers and locks in the same run (blank: the run had none).\n", RefBackend)
	fmt.Fprintf(&b, "\nRule: %s.\n", r.Rule)
	for _, rec := range r.Recommendations {
		fmt.Fprintf(&b, "\n## %s\n\nPareto front (by p99):\n\n", rec.Cell)
		for _, p := range rec.Front {
			fmt.Fprintf(&b, "- `%s`: %.0f ops/s, p99 %s\n", p.Config, p.Ops, gate.FormatNs(p.P99))
		}
		fmt.Fprintf(&b, "\n**Recommended:** `%s` (%.0f ops/s, p50 %s, p99 %s)\n", rec.Pick.Config, rec.Pick.Ops,
			gate.FormatNs(rec.Pick.P50), gate.FormatNs(rec.Pick.P99))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ratio renders a yardstick ratio; 0 (no yardstick) is blank.
func ratio(v float64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", v)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// WriteFiles writes tune.json and tune.md into dir (created).
func WriteFiles(dir string, r Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tune.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "tune.md"))
	if err != nil {
		return fmt.Errorf("tune: %w", err)
	}
	if err := WriteMarkdown(f, r); err != nil {
		f.Close()
		return fmt.Errorf("tune: %w", err)
	}
	return f.Close()
}

// ExecRunner returns a Runner that runs `bench` as a subprocess per configuration, into
// root/cfg-<seq>, with the configuration's server args appended to bench.ServerArgs.
func ExecRunner(bench gate.BenchCmd, root string) Runner {
	return func(ctx context.Context, cfg Config, seq int) ([]gate.Cell, error) {
		b := bench
		b.ServerArgs = strings.TrimSpace(b.ServerArgs + " " + cfg.ServerArgs())
		return b.Run(ctx, filepath.Join(root, fmt.Sprintf("cfg-%02d", seq)))
	}
}
