package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/client"
)

// Exit statuses of the client commands (sysexits-style where one fits).
const (
	exitUsage       = 64 // EX_USAGE: bad flags or arguments
	exitUnavailable = 69 // EX_UNAVAILABLE: cannot reach the server, or it went away before the lock was had
	exitSoftware    = 70 // EX_SOFTWARE: unexpected failure (server refusal, child could not start)
	exitTimeout     = 75 // EX_TEMPFAIL: the lock was not had within --timeout
	exitLost        = 76 // the lock was lost while CMD ran (lease expired, server gone); CMD was terminated
	exitNoPerm      = 77 // EX_NOPERM: the server refused the auth token
)

// connFlags are the flags every client command shares.
type connFlags struct {
	addr      string
	tokenFile string
	tls       tlsFlags // --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name (opsflags.go)
}

func (f *connFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "addr", "", "server address (default $WWLY_ADDR, else "+client.DefaultAddr+")")
	cmd.Flags().StringVar(&f.tokenFile, "auth-token-file", "", "file holding the auth token (default $WWLY_AUTH_TOKEN)")
	f.tls.register(cmd.Flags())
}

// resolve applies the environment fallbacks and reads the token file.
func (f *connFlags) resolve() (addr string, opts []client.Option, err error) {
	addr = f.addr
	if addr == "" {
		addr = os.Getenv("WWLY_ADDR")
	}
	if addr == "" {
		addr = client.DefaultAddr
	}
	var token []byte
	switch {
	case f.tokenFile != "":
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return "", nil, &exitError{exitUsage, fmt.Errorf("auth token: %w", err)}
		}
		token = []byte(strings.TrimRight(string(b), "\r\n"))
	case os.Getenv("WWLY_AUTH_TOKEN") != "":
		token = []byte(os.Getenv("WWLY_AUTH_TOKEN"))
	}
	if token != nil {
		opts = append(opts, client.WithAuthToken(token))
	}
	tlsOpt, err := f.tls.option()
	if err != nil {
		return "", nil, &exitError{exitUsage, err}
	}
	if tlsOpt != nil {
		opts = append(opts, tlsOpt)
	}
	return addr, opts, nil
}

// dialExit dials and turns failures into the documented exit statuses.
func dialExit(ctx context.Context, f *connFlags, name string) (*client.Client, error) {
	addr, opts, err := f.resolve()
	if err != nil {
		return nil, err
	}
	opts = append(opts, client.WithClientName(name))
	c, err := client.Dial(ctx, addr, opts...)
	if err != nil {
		if errors.Is(err, client.ErrAuth) {
			return nil, &exitError{exitNoPerm, err}
		}
		return nil, &exitError{exitUnavailable, err}
	}
	return c, nil
}

func usageError(cmd *cobra.Command, err error) error {
	return &exitError{exitUsage, fmt.Errorf("%w\n\n%s", err, cmd.UsageString())}
}

type lockOptions struct {
	conn     connFlags
	timeout  time.Duration
	ttl      time.Duration
	killWait time.Duration
	name     string
	argv     []string
	stderr   io.Writer
}

func newLockCmd() *cobra.Command {
	o := &lockOptions{stderr: os.Stderr}
	cmd := &cobra.Command{
		Use:   "lock [--addr A] [--timeout D] [--ttl D] NAME -- CMD [ARGS...]",
		Short: "Run a command while holding a named lock",
		Long: `Run CMD while holding the lock NAME, like flock(1) or etcdctl lock.

CMD runs in its own process group with WWLY_LOCK_NAME and WWLY_LOCK_TOKEN (the fencing token)
in its environment. SIGINT and SIGTERM are forwarded to it. If the lock is lost while CMD runs
(its --ttl lease ran out, or the server went away), CMD's whole process group gets SIGTERM, then
SIGKILL after --kill-after. If wwly lock itself is killed, CMD is killed too.

Exit status:
  CMD's status    CMD ran and the lock was held throughout (128+N if CMD died of signal N)
  64              usage error
  69              the server cannot be reached (or went away before the lock was had)
  70              unexpected failure (server refused the request, CMD could not start)
  75              the lock was not had within --timeout
  76              the lock was lost while CMD ran; CMD was terminated
  77              the server refused the auth token`,
		Example: `  wwly lock --timeout 10s deploy -- ./deploy.sh prod
  WWLY_ADDR=10.0.0.5:1977 wwly lock --ttl 30s nightly -- sh -c 'backup && prune'`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash != 1 || len(args) < 2 {
				return usageError(cmd, errors.New("want NAME -- CMD [ARGS...]"))
			}
			o.name, o.argv = args[0], args[1:]
			if o.timeout < 0 || o.ttl < 0 || o.killWait < 0 {
				return usageError(cmd, errors.New("durations must not be negative"))
			}
			return runLock(cmd.Context(), o)
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	o.conn.register(cmd)
	cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "give up (exit 75) if the lock is not had within this long; 0 waits forever")
	cmd.Flags().DurationVar(&o.ttl, "ttl", 0, "hold the lock under a lease of this length, renewed automatically; 0 means no lease")
	cmd.Flags().DurationVar(&o.killWait, "kill-after", 5*time.Second, "after SIGTERM on lock loss, SIGKILL the command's group after this long")
	return cmd
}

// runLock takes the lock, runs the command, and maps every outcome to an exit status.
func runLock(ctx context.Context, o *lockOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// Signals are caught from the start: one arriving while we wait abandons the wait.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	c, err := dialExit(ctx, &o.conn, "wwly lock "+o.name)
	if err != nil {
		return err
	}
	defer c.Close()

	var opts []client.MutexOption
	if o.ttl > 0 {
		opts = append(opts, client.WithTTL(o.ttl))
	}
	m := c.Mutex(o.name, opts...)
	lctx, cancel := context.WithCancel(ctx)
	if o.timeout > 0 {
		lctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()
	sigWhileWaiting := make(chan os.Signal, 1)
	go func() {
		var got os.Signal
		select {
		case got = <-sigs:
			cancel()
		case <-lctx.Done():
		}
		sigWhileWaiting <- got
	}()
	err = m.LockContext(lctx)
	cancel()
	gotSig := <-sigWhileWaiting
	if err == nil && gotSig != nil {
		m.Unlock() // granted just as we were told to stop
		err = context.Canceled
	}
	if err != nil {
		switch {
		case gotSig != nil:
			return &exitError{128 + int(gotSig.(syscall.Signal)), fmt.Errorf("interrupted while waiting for %q", o.name)}
		case errors.Is(err, client.ErrTimeout):
			return &exitError{exitTimeout, err}
		case errors.Is(err, client.ErrClosed), errors.Is(err, client.ErrShutdown):
			return &exitError{exitUnavailable, err}
		case errors.Is(err, client.ErrAuth):
			return &exitError{exitNoPerm, err}
		}
		return &exitError{exitSoftware, err}
	}

	child := exec.Command(o.argv[0], o.argv[1:]...)
	child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
	child.Env = append(os.Environ(),
		"WWLY_LOCK_NAME="+o.name,
		"WWLY_LOCK_TOKEN="+strconv.FormatUint(m.Token(), 10))
	child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := startPinned(child); err != nil {
		m.Unlock()
		return &exitError{exitSoftware, fmt.Errorf("start %s: %w", o.argv[0], err)}
	}
	waited := make(chan error, 1)
	go func() { waited <- child.Wait() }()
	pgid := child.Process.Pid

	lost := m.Lost()
	var werr error
	wasLost := false
loop:
	for {
		select {
		case werr = <-waited:
			break loop
		case s := <-sigs:
			_ = syscall.Kill(-pgid, s.(syscall.Signal))
		case <-lost:
			wasLost = true
			lost = nil
			fmt.Fprintf(o.stderr, "wwly: lock %q lost while the command ran; terminating it\n", o.name)
			werr = terminateGroup(pgid, waited, o.killWait)
			break loop
		}
	}
	if !wasLost {
		select {
		case <-m.Lost():
			wasLost = true // lost just as the command finished: its critical section was not safe
		default:
		}
	}
	if wasLost {
		m.Unlock()
		return &exitError{exitLost, fmt.Errorf("lock %q lost while the command ran", o.name)}
	}
	uctx, ucancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = m.UnlockContext(uctx) // the lock goes with the connection anyway
	ucancel()
	return childExit(werr)
}

// startPinned starts cmd from a goroutine locked to its OS thread: Pdeathsig fires when the
// thread that forked the child exits, not the process, and Go may retire threads. Unlocking
// afterwards returns the thread to the runtime's pool, which keeps it alive.
func startPinned(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return cmd.Start()
}

// terminateGroup sends SIGTERM to the process group, then SIGKILL after grace, and returns the
// leader's wait error.
func terminateGroup(pgid int, waited <-chan error, grace time.Duration) error {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-waited:
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // stragglers of the group
		return err
	case <-t.C:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return <-waited
	}
}

// childExit turns the command's wait error into our exit status.
func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &exitError{128 + int(ws.Signal()), nil}
		}
		return &exitError{ee.ExitCode(), nil}
	}
	return &exitError{exitSoftware, err}
}
