package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/bench"
	"github.com/wwly/wwly/loadgen"
)

// newWorkerCmd is the hidden `wwly worker`: one load-generating process that `wwly bench`
// starts many of. It speaks JSON lines on stdin/stdout (see loadgen.RunWorker); a person never
// runs it.
func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "worker",
		Short:  "one load-generating worker process (started by wwly bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := loadgen.RunWorker(cmd.Context(), os.Stdin, os.Stdout, bench.Lookup); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
}
