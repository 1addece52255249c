package client

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wwly/wwly/server"
	"github.com/wwly/wwly/wire"
)

// TestCodeError: every wire code maps to its own sentinel, keeps the code for errors.As, and
// the message carries the server's text but no code number.
func TestCodeError(t *testing.T) {
	tests := []struct {
		code wire.Code
		want error
	}{
		{wire.CodeNotHeld, ErrNotHeld},
		{wire.CodeTimeout, ErrTimeout},
		{wire.CodeQueueFull, ErrQueueFull},
		{wire.CodeAuth, ErrAuth},
		{wire.CodeCancelled, ErrCancelled},
		{wire.CodeTooManyRequests, ErrTooManyRequests},
		{wire.CodeTooManyConns, ErrTooManyConns},
		{wire.CodeSlowConsumer, ErrSlowConsumer},
		{wire.CodeNameLength, ErrNameLength},
		{wire.CodeShutdown, ErrShutdown},
		{wire.CodeLeaseExpired, ErrLost},
		{wire.CodeBadFrame, ErrProtocol},
		{wire.CodeInternal, ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.code.String(), func(t *testing.T) {
			err := codeError(tc.code, "the server's words")
			if !errors.Is(err, tc.want) {
				t.Errorf("codeError(%v) = %v, want %v", tc.code, err, tc.want)
			}
			var ce wire.CodeError
			if !errors.As(err, &ce) || ce.Code != tc.code {
				t.Errorf("codeError(%v): wire code not kept (%#v)", tc.code, ce)
			}
			if want := tc.want.Error() + ": the server's words"; err.Error() != want {
				t.Errorf("message %q, want %q", err.Error(), want)
			}
			if bare := codeError(tc.code, ""); bare.Error() != tc.want.Error() {
				t.Errorf("without a message: %q, want %q", bare.Error(), tc.want.Error())
			}
		})
	}
	// The three limits each have their own sentinel.
	for _, c := range []wire.Code{wire.CodeTooManyConns, wire.CodeSlowConsumer} {
		if errors.Is(codeError(c, ""), ErrTooManyRequests) {
			t.Errorf("%v reads as too many outstanding requests", c)
		}
	}
}

// TestDialRefused: a refused dial is ErrUnreachable and ErrClosed, keeps the errno, and says so
// in one line that names the address once.
func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = Dial(ctx, addr)
	if !errors.Is(err, ErrUnreachable) || !errors.Is(err, ErrClosed) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial = %v, want ErrUnreachable, ErrClosed and ECONNREFUSED", err)
	}
	msg := err.Error()
	if strings.Count(msg, "wwly:") != 1 || !strings.HasPrefix(msg, "wwly: cannot reach "+addr+": ") {
		t.Errorf("message %q: want one line starting %q", msg, "wwly: cannot reach "+addr+": ")
	}
}

// TestDialTooManyConns: a server at its connection limit refuses with ErrTooManyConns, not
// "too many outstanding requests".
func TestDialTooManyConns(t *testing.T) {
	addr := startServer(t, func(c *server.Config) { c.MaxConns = 1 })
	dial(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr)
	if err == nil {
		c.Close()
		t.Fatal("second Dial succeeded past --max-conns 1")
	}
	if !errors.Is(err, ErrTooManyConns) || errors.Is(err, ErrTooManyRequests) {
		t.Errorf("Dial = %v, want ErrTooManyConns", err)
	}
}
