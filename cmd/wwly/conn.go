package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wwly/wwly/client"
)

// connFlags are the flags every client command shares. The auth token is never a flag value
// (it would show in ps and shell history): it comes from a file or the environment.
type connFlags struct {
	addr      string
	tokenFile string
	tls       tlsFlags // --tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name (opsflags.go)
}

func (f *connFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.addr, "addr", "", "server address host:port, or a comma-separated list tried in order (default $WWLY_ADDR, else "+client.DefaultAddr+")")
	cmd.Flags().StringVar(&f.tokenFile, "auth-token-file", "", "file holding the auth token (default: the token in $WWLY_AUTH_TOKEN)")
	f.tls.register(cmd.Flags())
}

// addrs is the list of servers to try, first reachable wins: --addr, else $WWLY_ADDR, else the
// default. A list is for replicated servers to come; today every entry is a separate server.
func (f *connFlags) addrs() ([]string, error) {
	raw := f.addr
	if raw == "" {
		raw = os.Getenv("WWLY_ADDR")
	}
	if raw == "" {
		return []string{client.DefaultAddr}, nil
	}
	var out []string
	for _, a := range strings.Split(raw, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, exitWith(exitUsage, fmt.Errorf("no server address in %q", raw))
	}
	return out, nil
}

// options reads the token (file first, then $WWLY_AUTH_TOKEN). The token never appears in a
// message: errors name the file, not its content.
func (f *connFlags) options() ([]client.Option, error) {
	var token []byte
	switch {
	case f.tokenFile != "":
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return nil, exitWith(exitNoInput, fmt.Errorf("auth token file: %w", err))
		}
		token = []byte(strings.TrimRight(string(b), "\r\n"))
		if len(token) == 0 {
			return nil, exitWith(exitUsage, fmt.Errorf("auth token file %s is empty", f.tokenFile))
		}
	case os.Getenv("WWLY_AUTH_TOKEN") != "":
		token = []byte(os.Getenv("WWLY_AUTH_TOKEN"))
	}
	var opts []client.Option
	if token != nil {
		opts = append(opts, client.WithAuthToken(token))
	}
	tlsOpt, err := f.tls.option()
	if err != nil {
		return nil, exitWith(exitUsage, err)
	}
	if tlsOpt != nil {
		opts = append(opts, tlsOpt)
	}
	return opts, nil
}

// dialExit connects to the first reachable server and turns failures into the table's exit
// statuses with one readable line. It returns the address it connected to.
func dialExit(ctx context.Context, f *connFlags, clientName string) (*client.Client, string, error) {
	addrs, err := f.addrs()
	if err != nil {
		return nil, "", err
	}
	opts, err := f.options()
	if err != nil {
		return nil, "", err
	}
	// A person or script waiting here must learn that the server stopped answering (exit 69),
	// so the CLI keeps its heartbeat while it waits, unlike the library's default.
	opts = append(opts, client.WithClientName(clientName), client.WithWaitHeartbeat())
	var unreachable []string
	for _, addr := range addrs {
		c, err := client.Dial(ctx, addr, opts...)
		if err == nil {
			return c, addr, nil
		}
		if !errors.Is(err, client.ErrUnreachable) || ctx.Err() != nil {
			// Reached a server that said no (auth, limits): trying others would hide that.
			return nil, "", connFailure(addr, err)
		}
		unreachable = append(unreachable, fmt.Sprintf("%s (%s)", addr, netReason(err)))
	}
	if len(addrs) == 1 {
		return nil, "", exitWith(exitUnavailable, fmt.Errorf("cannot reach the server at %s: is 'wwly serve' running there?", unreachable[0]))
	}
	return nil, "", exitWith(exitUnavailable, fmt.Errorf("cannot reach any server of %s: is 'wwly serve' running there?", strings.Join(unreachable, ", ")))
}

// connFailure maps an error that ended (or prevented) the connection to addr to its exit status
// and a line that says what happened, without the client's internal wrapping.
func connFailure(addr string, err error) error {
	switch {
	case errors.Is(err, client.ErrAuth):
		return exitWith(exitNoPerm, fmt.Errorf("the server at %s refused the auth token (give it with --auth-token-file or $WWLY_AUTH_TOKEN)", addr))
	case errors.Is(err, client.ErrTooManyConns):
		return exitWith(exitUnavailable, fmt.Errorf("the server at %s is at its connection limit (its --max-conns): try again later", addr))
	case errors.Is(err, client.ErrShutdown):
		return exitWith(exitUnavailable, fmt.Errorf("the server at %s is shutting down", addr))
	case errors.Is(err, client.ErrSilent):
		return exitWith(exitUnavailable, fmt.Errorf("the server at %s went silent (%s): it is stopped, hung or cut off", addr, strings.TrimPrefix(err.Error(), client.ErrSilent.Error()+": ")))
	case errors.Is(err, client.ErrSlowConsumer):
		return exitWith(exitUnavailable, fmt.Errorf("the server at %s dropped this connection: its replies were not read fast enough", addr))
	case errors.Is(err, client.ErrUnreachable):
		return exitWith(exitUnavailable, fmt.Errorf("cannot reach the server at %s (%s): is 'wwly serve' running there?", addr, netReason(err)))
	case errors.Is(err, client.ErrTimeout) || errors.Is(err, context.DeadlineExceeded):
		return exitWith(exitUnavailable, fmt.Errorf("the server at %s did not answer in time", addr))
	case errors.Is(err, client.ErrClosed):
		return exitWith(exitUnavailable, fmt.Errorf("lost the connection to the server at %s: %s", addr, netReason(err)))
	case errors.Is(err, client.ErrProtocol):
		return exitWith(exitInternal, fmt.Errorf("the server at %s answered something this client does not understand: %w", addr, err))
	}
	return exitWith(exitInternal, fmt.Errorf("server at %s: %w", addr, err))
}

// netReason is the short cause of a network failure ("connection refused", "no such host").
func netReason(err error) string {
	var errno syscall.Errno
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		return dns.Err
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	var ne *net.OpError
	if errors.As(err, &ne) && ne.Err != nil {
		return ne.Err.Error()
	}
	return messageLine(err)
}
