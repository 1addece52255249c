// Command wwly is the lock server, its command-line client, and the benchmarking harness.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. *started is set once a subcommand's own code runs: an
// error before that is cobra's (unknown command or flag, wrong arguments), hence a usage error.
func newRootCmd(started *bool) *cobra.Command {
	root := &cobra.Command{
		Use:   "wwly",
		Short: "wwly — We Will Lock You: a remote lock server and the harness that measures it",
		Long: `wwly — We Will Lock You: a remote lock server and the harness that measures it.

Every subcommand exits with a status from one table: see 'wwly help exit-codes'.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Unknown subcommands reach here (Args is set, so cobra does not reject them itself).
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRun: func(*cobra.Command, []string) {
			*started = true
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(
		newServeCmd(),
		newLockCmd(),
		newStatusCmd(),
		newBenchCmd(),
		newWorkerCmd(),
		newReportCmd(),
		newTuneCmd(),
		newGateCmd(),
		newVersionCmd(),
		newExitCodesTopic(),
		newEventCmd(),
	)
	return root
}

// newExitCodesTopic is `wwly help exit-codes`: a help topic, not a runnable command.
func newExitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit statuses of every wwly subcommand",
		Long:  "Exit statuses of every wwly subcommand (sysexits-style where one fits):\n\n" + exitCodesText(),
	}
}

// run executes wwly with args and returns the exit status; messages go to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	started := false
	root := newRootCmd(&started)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code, msg := errorExit(err, started, cmd.CommandPath())
	if msg != "" {
		fmt.Fprintln(stderr, "wwly:", msg)
	}
	return code
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
