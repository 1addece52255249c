package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/client"
	"github.com/wwly/wwly/wire"
)

// lockOptions is `wwly lock`'s parsed command line.
type lockOptions struct {
	conn         connFlags
	wait         waitValue     // -w/--wait: flock-style, 0 means do not wait
	timeout      time.Duration // --timeout: the older spelling, 0 means wait forever
	nonblock     bool
	shared       bool   // -s: a read hold of the RWMutex NAME
	exclusive    bool   // -x: a write hold of the RWMutex NAME
	semaphore    uint32 // --semaphore N: one permit of the Semaphore NAME
	conflictCode int
	conflictSet  bool // -E given: the caller handles the conflict, so it is not reported
	ttl          time.Duration
	killWait     time.Duration
	name         string
	argv         []string // nil: hold the lock until signalled
	stdout       io.Writer
	stderr       io.Writer
}

func newLockCmd() *cobra.Command {
	o := &lockOptions{stdout: os.Stdout, stderr: os.Stderr}
	cmd := &cobra.Command{
		Use:   "lock [flags] NAME [-- CMD [ARGS...]]",
		Short: "Run a command while holding a named lock, or hold it until signalled",
		Long: `Run CMD while holding the lock NAME, like flock(1) or etcdctl lock. Without CMD, take the
lock, print its fencing token on stdout and hold it until SIGINT or SIGTERM (then release it
and exit 0), like "etcdctl lock NAME".

CMD gets WWLY_LOCK_NAME and WWLY_LOCK_TOKEN (the fencing token) in its environment. It runs in
its own process group; when stdin is the terminal and wwly lock is in its foreground, CMD's
group is made the foreground group (so CMD can read the terminal and gets ^C), and wwly lock
takes the terminal back when CMD ends. SIGINT and SIGTERM sent to wwly lock are forwarded to
CMD. If the lock is lost while CMD runs (its --ttl lease ran out, or the server went away),
CMD's whole process group gets SIGTERM, then SIGKILL after --kill-after. If wwly lock itself is
killed, CMD is killed too (Linux).

Kinds: by default NAME is a plain exclusive lock (a Mutex) with a fencing token and an optional
lease. -s/--shared and -x/--exclusive take a shared or exclusive hold of the reader/writer lock
NAME, as flock -s/-x: readers share it, a writer holds it alone, FIFO so writers do not starve.
--semaphore N takes one permit of the Semaphore NAME of N permits (WWLY_LOCK_TOKEN is 0: permits
have no fencing token). -s, -x and --semaphore holds have no lease (--ttl) and end with the
connection. A name has one kind: using it as another exits 70.

Waiting: by default wwly lock waits until the lock is free. -n gives up at once when it is
taken, -w SECONDS (or a Go duration such as 1m30s; -w 0 is -n) after that long; both exit 75
with one line on stderr, or silently with the status set with -E. --timeout D is the older
spelling of -w, where 0 waits forever.

Exit status (see 'wwly help exit-codes'): CMD's own (128+N if CMD died of signal N); 64 usage;
69 server unreachable or silent; 70 unexpected failure; 75 not had in time (-E); 76 lock lost
while CMD ran; 77 auth token refused; 126 CMD cannot be run; 127 CMD not found.`,
		Example: `  wwly lock -w 10 deploy -- ./deploy.sh prod
  wwly lock -n -E 0 nightly -- ./backup.sh       # skip quietly (status 0) when a run is going on
  WWLY_ADDR=10.0.0.5:1977 wwly lock --ttl 30s nightly -- sh -c 'backup && prune'
  wwly lock maintenance                           # prints the token, holds until ^C
  wwly lock -s config -- ./read-config.sh         # readers share "config"...
  wwly lock -x config -- ./write-config.sh        # ...a writer has it alone
  wwly lock --semaphore 4 gpu -- ./train.sh       # at most 4 at once`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parseArgs(cmd, args); err != nil {
				return usageError(cmd, err)
			}
			return runLock(cmd.Context(), o)
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	o.conn.register(cmd)
	f := cmd.Flags()
	f.VarP(&o.wait, "wait", "w", "give up after this long if the lock is taken: seconds (5, 0.5) or a duration (1m30s); 0 is --nonblock")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long (as --wait, but 0 waits forever)")
	f.BoolVarP(&o.nonblock, "nonblock", "n", false, "give up at once if the lock is taken")
	f.IntVarP(&o.conflictCode, "conflict-exit-code", "E", exitTimeout, "exit status when the lock was not had in time (-n, -w, --timeout)")
	f.BoolVarP(&o.shared, "shared", "s", false, "take a shared (read) hold of the reader/writer lock NAME, as flock -s")
	f.BoolVarP(&o.exclusive, "exclusive", "x", false, "take an exclusive (write) hold of the reader/writer lock NAME, as flock -x")
	f.Uint32Var(&o.semaphore, "semaphore", 0, "take one permit of a semaphore of N permits (N fixed by the name's first user)")
	f.DurationVar(&o.ttl, "ttl", 0, "hold the lock under a lease of this length, renewed automatically; 0 means no lease")
	f.DurationVar(&o.killWait, "kill-after", 5*time.Second, "after SIGTERM on lock loss, SIGKILL the command's group after this long")
	return cmd
}

// usageError is a usage error of cmd: the message, then a pointer to the command's help.
func usageError(cmd *cobra.Command, err error) error {
	return exitWith(exitUsage, &usageErr{cmd: cmd.CommandPath(), err: err})
}

// parseArgs checks the arguments and flags together.
func (o *lockOptions) parseArgs(cmd *cobra.Command, args []string) error {
	dash := cmd.ArgsLenAtDash()
	switch {
	case len(args) == 0 || dash == 0:
		return errors.New("missing the lock NAME")
	case dash < 0 && len(args) > 1:
		return fmt.Errorf("put -- between NAME and the command: wwly lock [flags] %s -- %s", args[0], args[1])
	case dash > 1:
		return errors.New("want one NAME before --")
	case dash == 1 && len(args) == 1:
		return errors.New("missing the command after --")
	}
	o.name, o.argv = args[0], nil
	o.conflictSet = cmd.Flags().Changed("conflict-exit-code")
	if len(args) > 1 {
		o.argv = args[1:]
	}
	if err := checkLockName(o.name); err != nil {
		return err
	}
	if err := o.checkKindFlags(); err != nil {
		return err
	}
	switch {
	case o.timeout < 0 || o.ttl < 0 || o.killWait < 0:
		return errors.New("durations must not be negative")
	case o.wait.set && cmd.Flags().Changed("timeout"):
		return errors.New("give -w/--wait or --timeout, not both")
	case o.nonblock && (o.wait.set || cmd.Flags().Changed("timeout")):
		return errors.New("give -n/--nonblock or a wait bound, not both")
	case o.conflictCode < 0 || o.conflictCode > 255:
		return fmt.Errorf("-E/--conflict-exit-code %d: want 0..255", o.conflictCode)
	}
	return nil
}

// checkLockName refuses a name the server would refuse (with its default --max-name).
func checkLockName(name string) error {
	if err := wire.CheckName([]byte(name), wire.DefaultLimits()); err != nil {
		return fmt.Errorf("lock name %s: %d bytes, want 1..%d", displayName(name), len(name), wire.DefaultLimits().MaxName)
	}
	return nil
}

// waitValue is -w/--wait: plain seconds as flock -w takes them ("5", "0.5"), or a Go duration.
type waitValue struct {
	d   time.Duration
	set bool
}

func (w *waitValue) String() string {
	if !w.set {
		return ""
	}
	return w.d.String()
}

func (w *waitValue) Type() string { return "seconds" }

func (w *waitValue) Set(s string) error {
	d, err := parseWait(s)
	if err != nil {
		return err
	}
	w.d, w.set = d, true
	return nil
}

// parseWait reads seconds ("5", "0.5") or a Go duration ("1m30s").
func parseWait(s string) (time.Duration, error) {
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || secs > float64(1<<62)/float64(time.Second) {
			return 0, fmt.Errorf("%q seconds is too long", s)
		}
		d = time.Duration(secs * float64(time.Second))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q: want seconds (5, 0.5) or a duration (1m30s)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return d, nil
}

// waitBound is how long to wait for the lock: forever (ok false), or d (0: do not wait).
func (o *lockOptions) waitBound() (d time.Duration, ok bool) {
	switch {
	case o.nonblock:
		return 0, true
	case o.wait.set:
		return o.wait.d, true
	case o.timeout > 0:
		return o.timeout, true
	}
	return 0, false
}

// runLock takes the lock, runs the command (or holds), and maps every outcome to an exit status.
func runLock(ctx context.Context, o *lockOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var path string
	if o.argv != nil {
		// Find CMD before taking the lock: a typo should not queue behind a holder.
		var err error
		if path, err = lookCommand(o.argv[0]); err != nil {
			return err
		}
	}
	// Signals are caught from the start: one arriving while we wait abandons the wait.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	c, addr, err := dialExit(ctx, &o.conn, "wwly lock "+o.name)
	if err != nil {
		return err
	}
	defer c.Close()
	m := o.newHeldLock(c)
	if err := o.acquire(ctx, c, addr, m, sigs); err != nil {
		return err
	}
	if o.argv == nil {
		return o.hold(c, addr, m, sigs)
	}
	return o.runChild(path, m, sigs)
}

// acquire waits for the lock within the wait bound, or until a signal.
func (o *lockOptions) acquire(ctx context.Context, c *client.Client, addr string, m heldLock, sigs <-chan os.Signal) error {
	bound, bounded := o.waitBound()
	lctx, cancel := context.WithCancel(ctx)
	if bounded && bound > 0 {
		lctx, cancel = context.WithTimeout(ctx, bound)
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
	var err error
	if bounded && bound == 0 {
		var ok bool
		if ok, err = m.TryLockContext(lctx); err == nil && !ok {
			err = fmt.Errorf("%w: taken", client.ErrTimeout)
		}
	} else {
		err = m.LockContext(lctx)
	}
	cancel()
	gotSig := <-sigWhileWaiting
	if err == nil && gotSig != nil {
		m.Unlock() // granted just as we were told to stop
		err = context.Canceled
	}
	if err == nil {
		return nil
	}
	switch {
	case gotSig != nil:
		return exitWith(exitSignal+int(gotSig.(syscall.Signal)), fmt.Errorf("interrupted while waiting for lock %s", displayName(o.name)))
	case c.Err() != nil:
		// The connection is gone (server stopped, silent or shutting down): whatever the
		// acquire's own error says, the server is what failed, not our wait bound.
		return connFailure(addr, c.Err())
	case errors.Is(err, client.ErrNameLength):
		return exitWith(exitUsage, fmt.Errorf("lock name %s: the server at %s refuses its length (%d bytes)", displayName(o.name), addr, len(o.name)))
	case bounded && errors.Is(err, client.ErrTimeout):
		if o.conflictSet {
			return exitWith(o.conflictCode, nil)
		}
		if bound == 0 {
			return exitWith(o.conflictCode, fmt.Errorf("lock %s is taken", displayName(o.name)))
		}
		return exitWith(o.conflictCode, fmt.Errorf("lock %s not had within %v", displayName(o.name), bound))
	case errors.Is(err, client.ErrWrongKind):
		return o.wrongKind(addr)
	case errors.Is(err, client.ErrQueueFull):
		return exitWith(exitUnavailable, fmt.Errorf("the server at %s has too many waiters for lock %s (its --max-waiters)", addr, displayName(o.name)))
	}
	return connFailure(addr, err)
}

// hold is `wwly lock NAME` without a command: print the token, hold until signalled or lost.
func (o *lockOptions) hold(c *client.Client, addr string, m heldLock, sigs <-chan os.Signal) error {
	if _, err := fmt.Fprintln(o.stdout, m.Token()); err != nil {
		m.Unlock()
		return exitWith(exitInternal, fmt.Errorf("print the token: %w", err))
	}
	select {
	case <-sigs:
		uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = m.UnlockContext(uctx) // the lock goes with the connection anyway
		return nil
	case <-m.Lost():
		m.Unlock()
		if err := c.Err(); err != nil {
			return exitWith(exitLost, fmt.Errorf("lock %s lost: %s", displayName(o.name), messageLine(connFailure(addr, err))))
		}
		return exitWith(exitLost, fmt.Errorf("lock %s lost (its lease ran out)", displayName(o.name)))
	}
}
