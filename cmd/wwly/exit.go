package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The exit statuses of every wwly subcommand: one table, printed by `wwly help exit-codes` and
// copied once into the README. Values follow sysexits(3) where one fits; the low codes are the
// harness's verdicts (kept as they were, since gate.json records them); 126 and 127 are what a
// shell returns for a command it cannot run or find.
const (
	exitOK          = 0
	exitRegression  = 1   // gate: the candidate is significantly slower than the base
	exitFailed      = 2   // a run failed or could not be judged
	exitUnproven    = 3   // bench: the none control showed no violation
	exitUsage       = 64  // EX_USAGE
	exitNoInput     = 66  // EX_NOINPUT
	exitUnavailable = 69  // EX_UNAVAILABLE
	exitInternal    = 70  // EX_SOFTWARE
	exitTimeout     = 75  // EX_TEMPFAIL
	exitLost        = 76  // the lock was lost while CMD ran
	exitNoPerm      = 77  // EX_NOPERM
	exitNoExec      = 126 // as sh(1): found but not executable
	exitNotFound    = 127 // as sh(1): not found
	exitSignal      = 128 // 128+N: died of (or stopped by) signal N
)

// exitCode is one row of the table.
type exitCode struct {
	code    int
	name    string
	meaning string
}

// exitCodes is the table, in code order. Rows whose code is not fixed (CMD's own status,
// 128+N) carry -1 and say so in their meaning.
var exitCodes = []exitCode{
	{exitOK, "ok", "success (gate: no regression; lock: CMD exited 0 with the lock held throughout)"},
	{exitRegression, "regression", "gate: the candidate is significantly slower than the base"},
	{exitFailed, "failed", "bench, gate, tune, report: a run failed or could not be judged (a cell crashed or errored, a lock violated mutual exclusion, nothing was measured, a report could not be written)"},
	{exitUnproven, "unproven", "bench: the none control showed no violation, so the checker was not proven able to fail"},
	{exitUsage, "usage", "bad command line: unknown command or flag, wrong arguments, a bad flag value or lock name (every subcommand)"},
	{exitNoInput, "noinput", "an input file is missing or unreadable (report: no readable run.json; lock, status: --auth-token-file)"},
	{exitUnavailable, "unavailable", "the server cannot be reached, went silent past its heartbeat timeout, or shut down (serve: cannot listen or use --data-dir)"},
	{exitInternal, "internal", "unexpected failure: a bug, or an answer from the server the command did not expect"},
	{exitTimeout, "timeout", "lock: --wait/--timeout ran out, or --nonblock found the lock taken (-E/--conflict-exit-code changes it)"},
	{exitLost, "lost", "lock: the lock was lost while CMD ran (lease ran out, server gone); CMD was terminated"},
	{exitNoPerm, "auth", "the server refused the auth token"},
	{exitNoExec, "noexec", "lock: CMD was found but cannot be run (not executable, a directory)"},
	{exitNotFound, "notfound", "lock: CMD was not found"},
	{-1, "signal", "128+N: lock: CMD died of signal N, or wwly lock got signal N before CMD started"},
	{-1, "cmd", "any other status: lock: CMD's own exit status"},
}

// writeExitCodes prints the table.
func writeExitCodes(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tNAME\tMEANING")
	for _, c := range exitCodes {
		code := fmt.Sprint(c.code)
		switch c.name {
		case "signal":
			code = "128+N"
		case "cmd":
			code = "other"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", code, c.name, c.meaning)
	}
	_ = tw.Flush()
}

// exitCodesText is the table as text, for help.
func exitCodesText() string {
	var b strings.Builder
	writeExitCodes(&b)
	return b.String()
}

// exitError carries an exit status, and the message to print (if any), out of a subcommand.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErr is a usage error of the command at path cmd (its help is the hint to print).
type usageErr struct {
	cmd string
	err error
}

func (e *usageErr) Error() string { return e.err.Error() }
func (e *usageErr) Unwrap() error { return e.err }

// exitWith wraps err with an exit status.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// errorExit decides the exit status of a failed command and the text to print after "wwly: "
// (empty for none). started says whether a subcommand's RunE was reached: an error from before
// that comes from cobra (unknown command or flag, bad arguments) and is a usage error of cmd.
func errorExit(err error, started bool, cmd string) (int, string) {
	var ee *exitError
	if errors.As(err, &ee) {
		msg := ""
		if ee.err != nil {
			msg = messageLine(ee.err)
		}
		var ue *usageErr
		if errors.As(ee.err, &ue) {
			msg += fmt.Sprintf("\nRun '%s --help' for usage.", ue.cmd)
		}
		return ee.code, msg
	}
	if !started {
		return exitUsage, messageLine(err) + fmt.Sprintf("\nRun '%s --help' for usage.", cmd)
	}
	return exitInternal, messageLine(err)
}

// messageLine renders err as the text after "wwly: ": the inner "wwly: " prefixes of the client's
// sentinels would only repeat the program name.
func messageLine(err error) string {
	return strings.ReplaceAll(err.Error(), "wwly: ", "")
}

// exitCodesMarkdown is the table as the README carries it (a test keeps the two equal).
func exitCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | name | meaning |\n|---|---|---|\n")
	for _, c := range exitCodes {
		code := fmt.Sprint(c.code)
		switch c.name {
		case "signal":
			code = "128+N"
		case "cmd":
			code = "other"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", code, c.name, c.meaning)
	}
	return b.String()
}
