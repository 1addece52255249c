package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wwly/wwly/runfile"
)

// ErrBench means a `wwly bench` subprocess failed or left no readable run.json.
var ErrBench = errors.New("gate: bench run failed")

// LoadCells reads the cells of a run directory's run.json. When dir has no run.json but holds
// run directories, the most recently modified one that has a run.json is read.
func LoadCells(dir string) ([]Cell, error) {
	path, err := findRunJSON(dir)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBench, err)
	}
	cells, err := DecodeRun(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cells, nil
}

// ErrRunFormat means run.json could not be decoded or has another schema version.
var ErrRunFormat = runfile.ErrFormat

// DecodeRun decodes the cells of a run.json document of any version runfile reads.
func DecodeRun(b []byte) ([]Cell, error) {
	r, err := runfile.Decode(b)
	if err != nil {
		return nil, err
	}
	return r.Cells, nil
}

func findRunJSON(dir string) (string, error) {
	p := filepath.Join(dir, "run.json")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "run.json"))
	best, bestT := "", int64(0)
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && st.ModTime().UnixNano() > bestT {
			best, bestT = m, st.ModTime().UnixNano()
		}
	}
	if best == "" {
		return "", fmt.Errorf("no run.json in %s: %w", dir, ErrBench)
	}
	return best, nil
}

// BenchCmd describes how to run `BIN bench` for one arm. The zero value is not useful.
type BenchCmd struct {
	Bin        string   // the wwly binary to exec
	Scenario   string   // --scenario file; empty leaves it to the binary's default
	ServerArgs string   // --server-args value; empty passes none
	Extra      []string // further bench flags, passed as given (e.g. --duration=2s)
	// Output receives the subprocess's combined stdout and stderr; nil keeps only a tail for errors.
	Output io.Writer
}

// Args returns the argv (without the binary) that runs bench with its output in out.
func (b BenchCmd) Args(out string) []string {
	args := []string{"bench", "--out", out}
	if b.Scenario != "" {
		args = append(args, "--scenario", b.Scenario)
	}
	if b.ServerArgs != "" {
		args = append(args, "--server-args", b.ServerArgs)
	}
	return append(args, b.Extra...)
}

// benchStopGrace is how long a cancelled bench has to clean up after SIGTERM.
const benchStopGrace = 15 * time.Second

// Run executes the bench into out (created) and returns the run's cells. When ctx ends the
// subprocess gets SIGTERM, then SIGKILL after benchStopGrace.
func (b BenchCmd) Run(ctx context.Context, out string) ([]Cell, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBench, err)
	}
	cmd := exec.CommandContext(ctx, b.Bin, b.Args(out)...)
	// On cancellation ask bench to stop (it then stops its server and workers) rather than
	// SIGKILL it and orphan them; kill only if it has not exited after benchStopGrace.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = benchStopGrace
	var tail bytes.Buffer
	w := io.Writer(&tail)
	if b.Output != nil {
		w = io.MultiWriter(&tail, b.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		// A bench that ran but exits non-zero for a failed cell still wrote run.json: report the
		// cell (and whether it was a violation) rather than only the exit status.
		if cells, lerr := LoadCells(out); lerr == nil {
			if _, _, serr := Summarize(cells); errors.Is(serr, ErrCellFailed) {
				return nil, fmt.Errorf("%s (bench: %v): %w", out, err, serr)
			}
		}
		msg := tail.String()
		if len(msg) > 2000 {
			msg = "..." + msg[len(msg)-2000:]
		}
		return nil, fmt.Errorf("%s %s: %w: %w\n%s", b.Bin, strings.Join(b.Args(out), " "), ErrBench, err, msg)
	}
	return LoadCells(out)
}

// ExecRunner returns a Runner that runs base or cand as a `wwly bench` subprocess, each run into
// its own directory root/<arm>-<seq>.
func ExecRunner(base, cand BenchCmd, root string) Runner {
	return func(ctx context.Context, arm Arm, seq int) ([]Cell, error) {
		b := base
		if arm == Cand {
			b = cand
		}
		return b.Run(ctx, filepath.Join(root, fmt.Sprintf("%s-%02d", arm, seq)))
	}
}

// ErrBuild means a binary could not be built.
var ErrBuild = errors.New("gate: build failed")

// BuildTree builds ./cmd/wwly of the module at dir into bin.
func BuildTree(ctx context.Context, dir, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/wwly")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %w: %w\n%s", dir, ErrBuild, err, out)
	}
	return nil
}

// BuildRef exports git ref of the repository at repo into a fresh directory under tmp (with
// `git archive`, which leaves the repository untouched, unlike `git worktree add`) and builds its
// ./cmd/wwly into bin.
func BuildRef(ctx context.Context, repo, ref, tmp, bin string) error {
	src, err := os.MkdirTemp(tmp, "src-")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBuild, err)
	}
	archive := exec.CommandContext(ctx, "git", "-C", repo, "archive", "--format=tar", ref)
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", src)
	// An os.Pipe joins the two so neither side's Wait can drop unread data.
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBuild, err)
	}
	archive.Stdout, untar.Stdin = pw, pr
	var aerr, terr bytes.Buffer
	archive.Stderr, untar.Stderr = &aerr, &terr
	if err := untar.Start(); err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("tar: %w: %w", ErrBuild, err)
	}
	pr.Close() // tar holds its own copy
	aErr := archive.Run()
	pw.Close() // tar sees EOF
	tErr := untar.Wait()
	if aErr != nil {
		return fmt.Errorf("git archive %s: %w: %w: %s", ref, ErrBuild, aErr, aerr.String())
	}
	if tErr != nil {
		return fmt.Errorf("tar: %w: %w: %s", ErrBuild, tErr, terr.String())
	}
	return BuildTree(ctx, src, bin)
}
