package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wwly/wwly/internal/tlstest"
	"github.com/wwly/wwly/server"
)

func opsPKI(t *testing.T) tlstest.Files {
	t.Helper()
	f, err := tlstest.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestTLSFlagsOption: flags, environment fallbacks and their errors.
func TestTLSFlagsOption(t *testing.T) {
	pki := opsPKI(t)
	for _, env := range []string{"WWLY_TLS", "WWLY_TLS_CA", "WWLY_TLS_CERT", "WWLY_TLS_KEY", "WWLY_TLS_SERVER_NAME"} {
		t.Setenv(env, "") // the cases below set what they need
	}
	cases := []struct {
		name    string
		flags   tlsFlags
		env     map[string]string
		wantTLS bool
		wantErr bool
	}{
		{name: "nothing: plaintext"},
		{name: "--tls", flags: tlsFlags{on: true}, wantTLS: true},
		{name: "--tls-ca", flags: tlsFlags{ca: pki.CA}, wantTLS: true},
		{name: "WWLY_TLS_CA", env: map[string]string{"WWLY_TLS_CA": pki.CA}, wantTLS: true},
		{name: "WWLY_TLS=1", env: map[string]string{"WWLY_TLS": "1"}, wantTLS: true},
		{name: "WWLY_TLS=yes", env: map[string]string{"WWLY_TLS": "yes"}, wantErr: true},
		{name: "client cert from env", flags: tlsFlags{ca: pki.CA},
			env: map[string]string{"WWLY_TLS_CERT": pki.ClientCert, "WWLY_TLS_KEY": pki.ClientKey}, wantTLS: true},
		{name: "cert without key", flags: tlsFlags{ca: pki.CA, cert: pki.ClientCert}, wantErr: true},
		{name: "missing CA file", flags: tlsFlags{ca: filepath.Join(t.TempDir(), "none.pem")}, wantErr: true},
		{name: "server name without TLS", flags: tlsFlags{sname: "x"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			opt, err := tc.flags.option()
			if (err != nil) != tc.wantErr || (opt != nil) != tc.wantTLS {
				t.Fatalf("option() = %v, %v; want TLS %v, error %v", opt != nil, err, tc.wantTLS, tc.wantErr)
			}
		})
	}
}

func TestServeOpsLoad(t *testing.T) {
	pki := opsPKI(t)
	cases := []struct {
		name    string
		ops     serveOps
		wantErr bool
	}{
		{name: "none", ops: serveOps{}},
		{name: "metrics only", ops: serveOps{metricsAddr: "127.0.0.1:0"}},
		{name: "tls", ops: serveOps{tlsAddr: "127.0.0.1:0", tlsCert: pki.ServerCert, tlsKey: pki.ServerKey}},
		{name: "mtls", ops: serveOps{tlsAddr: "127.0.0.1:0", tlsCert: pki.ServerCert, tlsKey: pki.ServerKey, tlsClientCA: pki.CA}},
		{name: "cert without addr", ops: serveOps{tlsCert: pki.ServerCert, tlsKey: pki.ServerKey}, wantErr: true},
		{name: "addr without key", ops: serveOps{tlsAddr: "127.0.0.1:0", tlsCert: pki.ServerCert}, wantErr: true},
		{name: "key mismatch", ops: serveOps{tlsAddr: "127.0.0.1:0", tlsCert: pki.ServerCert, tlsKey: pki.ClientKey}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.ops.load(slog.New(slog.NewTextHandler(io.Discard, nil)))
			if (err != nil) != tc.wantErr {
				t.Fatalf("load() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// lockedBuffer is an io.Writer safe for the server's logger and the test to share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits for a log line matching re and returns its first group.
func waitLog(t *testing.T, log *lockedBuffer, re *regexp.Regexp) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m[1]
		}
	}
	t.Fatalf("no log line %v in:\n%s", re, log.String())
	return ""
}

// TestServeTLSAndMetrics runs `wwly serve` in process with mTLS, an auth token and metrics, then
// `wwly status` over TLS; the token must never reach the log, even at debug level.
func TestServeTLSAndMetrics(t *testing.T) {
	pki := opsPKI(t)
	const secret = "s3cret-token-never-logged"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := &serveOptions{cfg: defaultServeConfig(t), authTokenFile: tokenFile, logLevel: "debug", shutdownWait: 5 * time.Second}
	opts.ops = serveOps{tlsAddr: "127.0.0.1:0", tlsCert: pki.ServerCert, tlsKey: pki.ServerKey,
		tlsClientCA: pki.CA, metricsAddr: "127.0.0.1:0"}
	log := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveRun(ctx, opts, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
		if strings.Contains(log.String(), secret) {
			t.Errorf("the auth token appears in the log:\n%s", log.String())
		}
	})
	tlsAddr := waitLog(t, log, regexp.MustCompile(`msg="listening \(TLS\)" addr=(\S+)`))
	metricsAddr := waitLog(t, log, regexp.MustCompile(`msg="metrics listening" addr=(\S+)`))

	status := func(flags tlsFlags, token string) (string, error) {
		out := &bytes.Buffer{}
		o := &statusOptions{conn: connFlags{addr: tlsAddr, tls: flags}, timeout: 5 * time.Second, out: out}
		t.Setenv("WWLY_AUTH_TOKEN", token)
		err := runStatus(context.Background(), o)
		return out.String(), err
	}
	good := tlsFlags{ca: pki.CA, cert: pki.ClientCert, key: pki.ClientKey}
	if out, err := status(good, secret); err != nil || !strings.Contains(out, "NAME") {
		t.Fatalf("status over mTLS: %q, %v", out, err)
	}
	var ee *exitError
	if _, err := status(good, "wrong-token"); !errors.As(err, &ee) || ee.code != exitNoPerm {
		t.Fatalf("status with a wrong token over mTLS: %v, want exit %d", err, exitNoPerm)
	}
	if _, err := status(tlsFlags{ca: pki.CA}, secret); !errors.As(err, &ee) || ee.code != exitUnavailable {
		t.Fatalf("status without a client certificate: %v, want exit %d", err, exitUnavailable)
	}
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"wwly_up 1", "wwly_tls_handshakes_total 2", `wwly_errors_total{code="AUTH"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func defaultServeConfig(t *testing.T) server.Config {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	return cfg
}
