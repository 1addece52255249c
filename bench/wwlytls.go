package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wwly/wwly/client"
	"github.com/wwly/wwly/internal/tlstest"
)

// Env keys of a wwly-tls instance: the TLS listener's address and the CA file its certificate
// chains to.
const (
	envWwlyTLS   = "wwly-tls"
	envWwlyTLSCA = "wwly-tls-ca"
)

// tlsListenMark is in serve's log line for its TLS listener (`listening (TLS) addr=...`).
const tlsListenMark = "(TLS)"

// wwlyTLSBackend is the wwly server reached through its TLS 1.3 listener (`serve --tls-addr`):
// the same server and client as wwly, plus the TLS termination and relay hop in the server and
// TLS in the client. Beside wwly it measures what TLS costs.
type wwlyTLSBackend struct{}

func (wwlyTLSBackend) Name() string    { return "wwly-tls" }
func (wwlyTLSBackend) Exclusive() bool { return true }
func (wwlyTLSBackend) Tokens() bool    { return true }

// Start writes a throwaway CA and server certificate (127.0.0.1) in opts.Dir, runs `serve` as
// wwly does with a TLS listener on 127.0.0.1:0 as well, and hands workers the TLS address and
// the CA file.
func (wwlyTLSBackend) Start(ctx context.Context, opts StartOptions) (Instance, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("bench: wwly-tls: StartOptions.Dir is empty")
	}
	dir := filepath.Join(opts.Dir, "wwly-tls-pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bench: wwly-tls: %w", err)
	}
	pki, err := tlstest.Write(dir)
	if err != nil {
		return nil, fmt.Errorf("bench: wwly-tls: certificates: %w", err)
	}
	extra := []string{"--tls-addr", "127.0.0.1:0", "--tls-cert", pki.ServerCert, "--tls-key", pki.ServerKey}
	p, addr, err := startServe(ctx, opts, extra, tlsListenAddr)
	if err != nil {
		return nil, err
	}
	return &procInstance{env: Env{envWwlyTLS: addr, envWwlyTLSCA: pki.CA}, proc: p}, nil
}

// tlsListenAddr is the address of serve's TLS listener.
func tlsListenAddr(line string) (string, bool) {
	if !strings.Contains(line, tlsListenMark) {
		return "", false
	}
	return parseListenAddr(line)
}

func (wwlyTLSBackend) Connect(ctx context.Context, env Env) (Client, error) {
	addr, ca := env[envWwlyTLS], env[envWwlyTLSCA]
	if addr == "" || ca == "" {
		return nil, fmt.Errorf("bench: wwly-tls: env needs %q and %q", envWwlyTLS, envWwlyTLSCA)
	}
	cfg, err := client.LoadTLSConfig(client.TLSFiles{CA: ca})
	if err != nil {
		return nil, fmt.Errorf("bench: wwly-tls: %w", err)
	}
	return dialWwly(ctx, addr, client.WithTLS(cfg))
}
