package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/client"
)

// eventOptions are the flags and arguments of `wwly event`.
type eventOptions struct {
	conn    connFlags
	action  string // set, clear, wait, is-set
	name    string
	timeout time.Duration // wait: give up after this long; 0 waits forever
	keep    time.Duration // set: keep the name open this long, so later waiters find it set
}

var eventActions = map[string]bool{"set": true, "clear": true, "wait": true, "is-set": true}

func newEventCmd() *cobra.Command {
	o := &eventOptions{}
	cmd := &cobra.Command{
		Use:   "event set|clear|wait|is-set NAME [--timeout D] [--keep D]",
		Short: "Set, clear or wait for a named event (threading.Event across processes)",
		Long: `Signal between processes with the named event NAME.

  wait     blocks until NAME is set (at once if it is), or --timeout passes
  set      sets NAME and wakes every process waiting for it
  clear    clears NAME
  is-set   reports whether NAME is set, without waiting

An event's flag lives only while some connection has the name open or waits on it: a plain
set wakes the processes already waiting and is then forgotten. With --keep D, set stays
connected with the name open for D (or until interrupted), so waits that start meanwhile
find it set at once.

Exit status:
  0    set / clear done; wait and is-set: the event is set
  64   usage error
  69   the server cannot be reached
  70   unexpected failure (for instance NAME is in use as another kind)
  75   wait: --timeout passed; is-set: the event is not set
  77   the server refused the auth token
  128+N interrupted by signal N while waiting`,
		Example: `  wwly event wait --timeout 5m warehouse-loaded && ./report.sh
  ./load.sh && wwly event set --keep 10m warehouse-loaded`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError(cmd, errors.New("want ACTION NAME"))
			}
			o.action, o.name = args[0], args[1]
			if err := o.validate(); err != nil {
				return usageError(cmd, err)
			}
			return runEvent(cmd.Context(), o)
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	o.conn.register(cmd)
	cmd.Flags().DurationVar(&o.timeout, "timeout", 0, "wait: give up (exit 75) after this long; 0 waits forever")
	cmd.Flags().DurationVar(&o.keep, "keep", 0, "set: keep the event open (and so set) this long; 0 forgets it once the current waiters are woken")
	return cmd
}

func (o *eventOptions) validate() error {
	switch {
	case !eventActions[o.action]:
		return fmt.Errorf("unknown action %q (want set, clear, wait or is-set)", o.action)
	case o.timeout < 0 || o.keep < 0:
		return errors.New("durations must not be negative")
	case o.timeout > 0 && o.action != "wait":
		return errors.New("--timeout applies to wait only")
	case o.keep > 0 && o.action != "set":
		return errors.New("--keep applies to set only")
	}
	return nil
}

// runEvent performs the action and maps the outcome to an exit status.
func runEvent(ctx context.Context, o *eventOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var got os.Signal
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case got = <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()
	err := doEvent(ctx, o)
	cancel()
	<-stopped
	if got != nil && err != nil {
		return &exitError{128 + int(got.(syscall.Signal)), fmt.Errorf("interrupted: event %s %q", o.action, o.name)}
	}
	return err
}

func doEvent(ctx context.Context, o *eventOptions) error {
	c, err := dialExit(ctx, &o.conn, "wwly event "+o.action+" "+o.name)
	if err != nil {
		return err
	}
	defer c.Close()
	ev := c.Event(o.name)
	switch o.action {
	case "set":
		if o.keep > 0 {
			if ev, err = c.OpenEvent(ctx, o.name); err != nil {
				return eventExit(err)
			}
		}
		if err := ev.Set(ctx); err != nil {
			return eventExit(err)
		}
		if o.keep > 0 {
			select { // the name stays open, and set, until we disconnect
			case <-time.After(o.keep):
			case <-ctx.Done():
			case <-c.Done():
				return eventExit(c.Err())
			}
		}
		return nil
	case "clear":
		return eventExit(ev.Clear(ctx))
	case "is-set":
		set, err := ev.IsSet(ctx)
		if err != nil {
			return eventExit(err)
		}
		if !set {
			return &exitError{exitTimeout, nil}
		}
		return nil
	}
	wctx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	err = ev.Wait(wctx)
	if err != nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return &exitError{exitTimeout, fmt.Errorf("event %q not set within %v", o.name, o.timeout)}
	}
	return eventExit(err)
}

// eventExit maps a client error to the documented exit statuses.
func eventExit(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrTimeout):
		return &exitError{exitTimeout, err}
	case errors.Is(err, client.ErrClosed), errors.Is(err, client.ErrShutdown):
		return &exitError{exitUnavailable, err}
	case errors.Is(err, client.ErrAuth):
		return &exitError{exitNoPerm, err}
	}
	return &exitError{exitSoftware, err}
}
