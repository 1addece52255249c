package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wwly/wwly/internal/tlstest"
	"github.com/wwly/wwly/wire"
)

// testPKI writes a throwaway CA, server and client certificates for one test.
func testPKI(t testing.TB) tlstest.Files {
	t.Helper()
	f, err := tlstest.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// startTLS starts a server and a TLS listener in front of it; both stop when the test ends.
func startTLS(t testing.TB, files TLSFiles, edit func(*Config)) (*Server, *TLSListener) {
	t.Helper()
	s := startServer(t, edit)
	cfg, err := LoadTLSConfig(files)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := s.ServeTLS("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before the server's Shutdown, after the clients' cleanups (last-in first-out)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tl.Close(ctx); err != nil {
			t.Errorf("TLS listener Close: %v", err)
		}
	})
	return s, tl
}

func clientTLS(t testing.TB, caFile, certFile, keyFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg
}

// tlsSession dials addr with cfg and does HELLO; it returns the connection and a frame reader.
func tlsSession(t testing.TB, addr string, cfg *tls.Config) (net.Conn, *wire.Reader, error) {
	t.Helper()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := wire.NewReader(c, wire.DefaultLimits())
	if _, err := c.Write(wire.AppendHello(nil, 1, nil, []byte("tls-test"))); err != nil {
		return nil, nil, err
	}
	f, err := r.Next()
	if err != nil {
		return nil, nil, err
	}
	if f.Type != wire.Welcome {
		return nil, nil, &wire.CodeError{Code: f.Code, Msg: string(f.Msg)}
	}
	return c, r, nil
}

// TestTLSClientCertificates: with and without mTLS, which clients get a session.
func TestTLSClientCertificates(t *testing.T) {
	pki := testPKI(t)
	cases := []struct {
		name      string
		mtls      bool
		cert, key string
		wantOK    bool
	}{
		{"tls, no client cert", false, "", "", true},
		{"mtls, good client cert", true, pki.ClientCert, pki.ClientKey, true},
		{"mtls, no client cert", true, "", "", false},
		{"mtls, cert from another CA", true, pki.StrangerCert, pki.StrangerKey, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey}
			if tc.mtls {
				files.ClientCA = pki.CA
			}
			_, tl := startTLS(t, files, nil)
			_, _, err := tlsSession(t, tl.Addr(), clientTLS(t, pki.CA, tc.cert, tc.key))
			if (err == nil) != tc.wantOK {
				t.Fatalf("session err = %v, want ok %v", err, tc.wantOK)
			}
			// The server counts a refusal after sending its alert: poll.
			waitFor(t, 5*time.Second, func() bool {
				st := tl.Stats()
				return tc.wantOK && st.Handshakes == 1 || !tc.wantOK && st.HandshakeErrors == 1
			}, "handshake not counted")
		})
	}
}

// TestTLSLockHandoff: a lock taken over TLS passes to a plaintext waiter when the TLS client's
// connection drops, and to a TLS waiter on release: the relay neither delays nor keeps locks.
func TestTLSLockHandoff(t *testing.T) {
	pki := testPKI(t)
	s, tl := startTLS(t, TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey}, nil)
	cfg := clientTLS(t, pki.CA, "", "")
	a, ra, err := tlsSession(t, tl.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	next := func(r *wire.Reader, want wire.Type) *wire.Frame {
		t.Helper()
		f, err := r.Next()
		if err != nil || f.Type != want {
			t.Fatalf("got %v (err %v), want %v", f, err, want)
		}
		return f
	}
	write := func(c net.Conn, b []byte) {
		t.Helper()
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	write(a, wire.AppendAcquire(nil, 2, []byte("k"), -1, 0))
	tok := next(ra, wire.Granted).Token
	b, rb, err := tlsSession(t, tl.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	write(b, wire.AppendAcquire(nil, 2, []byte("k"), -1, 0))
	write(a, wire.AppendRelease(nil, 3, []byte("k"), tok))
	next(ra, wire.OK)
	next(rb, wire.Granted)
	plain := helloConn(t, s)
	req := plain.acquire("k", -1, 0)
	plain.expectNothing(20 * time.Millisecond)
	_ = b.Close() // holder gone: the relay closes its server connection, the lock moves on
	plain.granted(req)
	if st := tl.Stats(); st.Handshakes != 2 {
		t.Errorf("stats %+v", st)
	}
	waitFor(t, 5*time.Second, func() bool { return tl.Stats().Relays == 1 }, "relay of the closed client still counted")
}

// TestTLSPlaintextClient: a plaintext client on the TLS port reads an ERROR saying so, and a TLS
// client on the plaintext port fails its handshake.
func TestTLSPlaintextClient(t *testing.T) {
	pki := testPKI(t)
	s, tl := startTLS(t, TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey}, nil)
	c, err := net.DialTimeout("tcp", tl.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(wire.AppendHello(nil, 1, nil, nil)); err != nil {
		t.Fatal(err)
	}
	f, err := wire.NewReader(c, wire.DefaultLimits()).Next()
	if err != nil || f.Type != wire.Error || !strings.Contains(string(f.Msg), "requires TLS") {
		t.Fatalf("plaintext HELLO on the TLS port: %v %q, err %v", f, f.Msg, err)
	}
	if st := tl.Stats(); st.PlaintextRefused != 1 {
		t.Errorf("stats %+v", st)
	}
	if _, _, err := tlsSession(t, s.Addr(), clientTLS(t, pki.CA, "", "")); err == nil {
		t.Fatal("TLS handshake with the plaintext port succeeded")
	}
}

// TestTLSShutdown: Shutdown reaches TLS clients (ERROR Shutdown through the relay), then Close
// returns at once.
func TestTLSShutdown(t *testing.T) {
	pki := testPKI(t)
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = testLogger(t)
	cfg.DataDir = t.TempDir()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	tcfg, err := LoadTLSConfig(TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey})
	if err != nil {
		t.Fatal(err)
	}
	tl, err := s.ServeTLS("127.0.0.1:0", tcfg)
	if err != nil {
		t.Fatal(err)
	}
	_, r, err := tlsSession(t, tl.Addr(), clientTLS(t, pki.CA, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if f, err := r.Next(); err != nil || f.Type != wire.Error || f.Code != wire.CodeShutdown {
		t.Fatalf("after Shutdown: %v, err %v; want ERROR shutdown", f, err)
	}
	start := time.Now()
	if err := tl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
	if tl.Up() {
		t.Error("Up after Close")
	}
}

func TestLoadTLSConfigErrors(t *testing.T) {
	pki := testPKI(t)
	for _, f := range []TLSFiles{
		{},
		{Cert: pki.ServerCert},
		{Cert: pki.ServerCert, Key: pki.ClientKey}, // key of another certificate
		{Cert: pki.ServerCert, Key: pki.ServerKey, ClientCA: "/nonexistent"},
		{Cert: pki.ServerCert, Key: pki.ServerKey, ClientCA: pki.ServerKey}, // not a certificate
	} {
		if _, err := LoadTLSConfig(f); err == nil {
			t.Errorf("LoadTLSConfig(%+v): no error", f)
		}
	}
	cfg, err := LoadTLSConfig(TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey, ClientCA: pki.CA})
	if err != nil || cfg.MinVersion != tls.VersionTLS13 || cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("cfg %+v err %v", cfg, err)
	}
}

// BenchmarkCycleTLS measures what the TLS listener costs one connection doing pipelined
// acquire+release cycles: straight to gnet, through the relay without TLS (the extra loopback
// hop alone), and through the relay with TLS 1.3.
func BenchmarkCycleTLS(b *testing.B) {
	pki := testPKI(b)
	for _, path := range []string{"direct", "relay", "tls"} {
		b.Run("path="+path, func(b *testing.B) {
			s := startServer(b, nil)
			var conn net.Conn
			var err error
			switch path {
			case "direct":
				conn, err = net.Dial("tcp", s.Addr())
			case "relay", "tls":
				var cfg *tls.Config
				if path == "tls" {
					if cfg, err = LoadTLSConfig(TLSFiles{Cert: pki.ServerCert, Key: pki.ServerKey}); err != nil {
						b.Fatal(err)
					}
				}
				tl, err := s.relay("127.0.0.1:0", cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = tl.Close(context.Background()) })
				if path == "relay" {
					conn, err = net.Dial("tcp", tl.Addr())
				} else {
					conn, err = tls.Dial("tcp", tl.Addr(), clientTLS(b, pki.CA, "", ""))
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = conn.Close() })
			bc := &benchConn{c: conn, r: wire.NewReader(conn, wire.DefaultLimits())}
			if err := bc.write(wire.AppendHello(nil, 1, nil, nil)); err != nil {
				b.Fatal(err)
			}
			if _, err := bc.until(wire.Welcome); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := bc.cycles([]byte("cycle"), b.N); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
		})
	}
}

// A TLS listener beside the plaintext one; with ClientCA, clients need a certificate (mTLS).
func ExampleServer_ServeTLS() {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:1977"   // plaintext on loopback only: from the network, TLS is the way in
	cfg.DataDir = "/var/lib/wwly" // holds the fencing-token epoch
	srv, err := New(cfg)
	if err != nil || srv.Start() != nil {
		return
	}
	tcfg, err := LoadTLSConfig(TLSFiles{Cert: "server.pem", Key: "server-key.pem", ClientCA: "clients-ca.pem"})
	if err != nil {
		return
	}
	tl, err := srv.ServeTLS("0.0.0.0:1978", tcfg)
	if err != nil {
		return
	}
	// ... at the end: Shutdown first, so TLS clients are told through their relays.
	_ = srv.Shutdown(context.Background())
	_ = tl.Close(context.Background())
}
