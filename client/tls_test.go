package client

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/internal/tlstest"
	"github.com/wwly/wwly/server"
)

// startTLSServer runs a server with a TLS listener; it returns the plaintext and TLS addresses.
func startTLSServer(tb testing.TB, files server.TLSFiles) (plain, tlsAddr string) {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.DataDir = tb.TempDir()
	s, err := server.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(); err != nil {
		tb.Fatal(err)
	}
	tcfg, err := server.LoadTLSConfig(files)
	if err != nil {
		tb.Fatal(err)
	}
	tl, err := s.ServeTLS("127.0.0.1:0", tcfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Errorf("server Shutdown: %v", err)
		}
		if err := tl.Close(ctx); err != nil {
			tb.Errorf("TLS listener Close: %v", err)
		}
	})
	return s.Addr(), tl.Addr()
}

func writePKI(tb testing.TB) tlstest.Files {
	tb.Helper()
	f, err := tlstest.Write(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func loadTLS(tb testing.TB, f TLSFiles) *tls.Config {
	tb.Helper()
	cfg, err := LoadTLSConfig(f)
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// TestTLSLockUnlock: locks, handoff and status over TLS, with and without client certificates.
func TestTLSLockUnlock(t *testing.T) {
	pki := writePKI(t)
	for _, mtls := range []bool{false, true} {
		t.Run(map[bool]string{false: "tls", true: "mtls"}[mtls], func(t *testing.T) {
			files := server.TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey}
			cf := TLSFiles{CA: pki.CA}
			if mtls {
				files.ClientCA = pki.CA
				cf.Cert, cf.Key = pki.ClientCert, pki.ClientKey
			}
			_, addr := startTLSServer(t, files)
			a := dial(t, addr, WithTLS(loadTLS(t, cf)))
			b := dial(t, addr, WithTLS(loadTLS(t, cf)))
			ma, mb := a.Mutex("tls"), b.Mutex("tls")
			ma.Lock()
			first := ma.Token()
			got := make(chan uint64)
			go func() {
				mb.Lock()
				got <- mb.Token()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tlsWaitFor(t, 5*time.Second, func() bool {
				locks, err := a.Status(ctx, "tls")
				return err == nil && len(locks) == 1 && locks[0].Waiters == 1
			}, "b never queued")
			ma.Unlock()
			select {
			case tok := <-got:
				if tok <= first {
					t.Fatalf("token %d after %d", tok, first)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no handoff over TLS")
			}
			if err := mb.UnlockContext(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestTLSDialErrors: every way a TLS dial can be wrong fails with a message that says why.
func TestTLSDialErrors(t *testing.T) {
	pki := writePKI(t)
	plain, mtlsAddr := startTLSServer(t, server.TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey, ClientCA: pki.CA})
	cases := []struct {
		name string
		addr string
		opts []Option
		want string
		is   error
	}{
		{"plaintext client on the TLS port", mtlsAddr, nil, "requires TLS", ErrProtocol},
		{"TLS client on the plaintext port", plain, []Option{WithTLS(loadTLS(t, TLSFiles{CA: pki.CA}))}, "does not speak TLS", ErrClosed},
		{"no client certificate", mtlsAddr, []Option{WithTLS(loadTLS(t, TLSFiles{CA: pki.CA}))}, "certificate", ErrClosed},
		{"client certificate from another CA", mtlsAddr, []Option{WithTLS(loadTLS(t, TLSFiles{CA: pki.CA, Cert: pki.StrangerCert, Key: pki.StrangerKey}))}, "certificate", ErrClosed},
		{"server not trusted", mtlsAddr, []Option{WithTLS(loadTLS(t, TLSFiles{CA: pki.OtherCA, Cert: pki.ClientCert, Key: pki.ClientKey}))}, "certificate", ErrClosed},
		{"blocking fd mode", mtlsAddr, []Option{WithIOMode(IOBlockingFD), WithTLS(loadTLS(t, TLSFiles{CA: pki.CA}))}, "I/O mode", ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, tc.addr, tc.opts...)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("err = %v; want it to mention %q and wrap %v", err, tc.want, tc.is)
			}
		})
	}
}

func TestLoadTLSConfig(t *testing.T) {
	pki := writePKI(t)
	for _, f := range []TLSFiles{
		{CA: "/nonexistent"},
		{CA: pki.ServerKey}, // not a certificate
		{Cert: pki.ClientCert},
		{Cert: pki.ClientCert, Key: pki.ServerKey},
	} {
		if _, err := LoadTLSConfig(f); err == nil {
			t.Errorf("LoadTLSConfig(%+v): no error", f)
		}
	}
	cfg := loadTLS(t, TLSFiles{CA: pki.CA, Cert: pki.ClientCert, Key: pki.ClientKey})
	if cfg.MinVersion != tls.VersionTLS13 || cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("cfg %+v", cfg)
	}
}

// tlsWaitFor polls cond every millisecond until it holds or d passes.
func tlsWaitFor(tb testing.TB, d time.Duration, cond func() bool, msg string) {
	tb.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal(msg)
		}
	}
}

func ExampleWithTLS() {
	cfg, err := LoadTLSConfig(TLSFiles{CA: "/etc/wwly/ca.pem"}) // add Cert and Key for mTLS
	if err != nil {
		return
	}
	ctx := context.Background()
	c, err := Dial(ctx, "lockserver.example:1978", WithTLS(cfg))
	if err != nil {
		return
	}
	defer c.Close()
	mu := c.Mutex("orders")
	if err := mu.LockContext(ctx); err != nil {
		return
	}
	defer mu.Unlock()
}
