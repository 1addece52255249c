package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/wwly/wwly/reports"
)

// defaultReportDir is where `wwly bench` leaves its newest run.
const defaultReportDir = "results/latest"

// reportOptions are the inputs of `wwly report`.
type reportOptions struct {
	Dir string
	Out io.Writer
}

func newReportCmd() *cobra.Command {
	opts := reportOptions{}
	return &cobra.Command{
		Use:   "report [DIR]",
		Short: "Render report.md, report.html and .hgrm files from a bench run directory",
		Long: `Render a finished bench run again from its run.json and .hlog files, without re-running it:
DIR/report.md (tables per scenario group, ratios against wwly and the tcp-echo floor),
DIR/report.html (self-contained, with plots) and one .hgrm percentile distribution per cell.
DIR defaults to ` + defaultReportDir + `.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = defaultReportDir
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			opts.Out = cmd.OutOrStdout()
			return reportRun(opts)
		},
	}
}

// reportRun loads and renders one run directory and prints the paths it wrote. A directory
// without a readable run.json exits with status 66 (noinput), so scripts can tell "nothing to
// report" from a rendering failure (status 2, failed).
func reportRun(opts reportOptions) error {
	data, err := reports.Load(opts.Dir)
	if err != nil {
		if errors.Is(err, reports.ErrNoRun) || errors.Is(err, reports.ErrBadRun) {
			return &exitError{code: exitNoInput, err: fmt.Errorf("report: %w", err)}
		}
		return &exitError{code: exitFailed, err: fmt.Errorf("report: %w", err)}
	}
	paths, err := reports.Render(opts.Dir, data)
	if err != nil {
		return &exitError{code: exitFailed, err: fmt.Errorf("report: %w", err)}
	}
	fmt.Fprintln(opts.Out, paths.Markdown)
	fmt.Fprintln(opts.Out, paths.HTML)
	return nil
}
