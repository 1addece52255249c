package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wwly/wwly/wire"
)

// TLS for client connections.
//
// gnet has no TLS, so a TLSListener terminates TLS in Go (crypto/tls) and relays each
// connection's plaintext to the server's own gnet listener over loopback. The lock server is
// unchanged: a relayed connection is an ordinary connection (HELLO, auth token, max-conns,
// heartbeats, slow-consumer bound), and when either side of a relay ends the other is closed,
// so a client that goes away still releases its locks at once. The price is one loopback hop
// and two goroutine wake-ups each way, measured in docs/operations.md; the plaintext listener
// does not pay it. Feeding decrypted bytes into the event loops directly (through the loop
// inboxes) would save the hop but put a second input path into every part of the hot path.

// ErrTLS is wrapped by TLS set-up errors.
var ErrTLS = errors.New("server: tls")

// TLSFiles names the PEM files of a TLS listener.
type TLSFiles struct {
	Cert, Key string // the server's certificate chain and private key
	ClientCA  string // optional: require client certificates signed by these CAs (mTLS)
	// Logger reports certificate reloads (nil: slog.Default()). A rotated Cert/Key pair is picked
	// up by new connections within 10 s; the client CA is read once.
	Logger *slog.Logger
}

// LoadTLSConfig builds a server tls.Config from files: TLS 1.3 only; with ClientCA set, a client
// must present a certificate that verifies against it (tls.RequireAndVerifyClientCert). The
// certificate is served through GetCertificate, which reloads a rotated pair (certReloader).
func LoadTLSConfig(f TLSFiles) (*tls.Config, error) {
	if f.Cert == "" || f.Key == "" {
		return nil, fmt.Errorf("%w: both a certificate and a key file are needed", ErrTLS)
	}
	log := f.Logger
	if log == nil {
		log = slog.Default()
	}
	certs, err := newCertReloader(f.Cert, f.Key, log)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, GetCertificate: certs.get}
	if f.ClientCA != "" {
		pem, err := os.ReadFile(f.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("%w: client CA: %w", ErrTLS, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: client CA %s holds no PEM certificate", ErrTLS, f.ClientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Bounds of a TLS listener.
const (
	tlsHandshakeTimeout = 10 * time.Second // a stranger cannot hold a handshake slot longer
	tlsMaxHandshakes    = 256              // handshakes in flight; accept waits beyond
	tlsWriteTimeout     = 30 * time.Second // a client not reading this long is cut (the server has cut its relay already)
	relayBuf            = 16 << 10         // one TLS record of plaintext
)

// TLSStats counts a TLS listener's connections.
type TLSStats struct {
	Handshakes       uint64 // completed
	HandshakeErrors  uint64 // failed (plaintext clients included)
	PlaintextRefused uint64 // clients that spoke plaintext wwly to the TLS port
	Relays           int64  // connections being relayed now
}

// TLSListener accepts TLS connections and relays them to a Server. Its methods are safe for
// concurrent use.
type TLSListener struct {
	ln      net.Listener
	cfg     *tls.Config // nil: plain relay (benchmarks only: the cost of the hop alone)
	backend string
	log     *slog.Logger
	slots   chan struct{}
	wg      sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // client-side connections, for a forced close
	closed bool

	handshakes, handshakeErrs, plaintext atomic.Uint64
	relays                               atomic.Int64
}

// ServeTLS listens on addr and relays every TLS connection to s, which must be started. A
// client sees the same protocol as on s.Addr(). Stop it with Close, after s.Shutdown so that
// relayed clients are told of the shutdown.
func (s *Server) ServeTLS(addr string, cfg *tls.Config) (*TLSListener, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no tls.Config", ErrTLS)
	}
	return s.relay(addr, cfg)
}

func (s *Server) relay(addr string, cfg *tls.Config) (*TLSListener, error) {
	backend, err := dialable(s.Addr())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTLS, err)
	}
	if cfg != nil {
		cfg = cfg.Clone()
		if cfg.MinVersion < tls.VersionTLS13 {
			// The flag promises TLS 1.3; a caller's config asking for less is raised, said in the log.
			s.log.Info("TLS listener: minimum version raised to TLS 1.3")
			cfg.MinVersion = tls.VersionTLS13
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: listen %s: %w", ErrTLS, addr, err)
	}
	t := &TLSListener{
		ln: ln, cfg: cfg, backend: backend, log: s.log,
		slots: make(chan struct{}, tlsMaxHandshakes),
		conns: make(map[net.Conn]struct{}),
	}
	t.wg.Add(1)
	go t.accept()
	s.log.Info("listening (TLS)", "addr", ln.Addr().String(), "relay_to", backend,
		"client_certs", cfg != nil && cfg.ClientAuth == tls.RequireAndVerifyClientCert)
	return t, nil
}

// dialable turns a listen address into one to dial: an unspecified host means loopback.
func dialable(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("server address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port), nil
}

// Addr is the TLS listener's address.
func (t *TLSListener) Addr() string { return t.ln.Addr().String() }

// Stats returns the listener's counters.
func (t *TLSListener) Stats() TLSStats {
	return TLSStats{
		Handshakes: t.handshakes.Load(), HandshakeErrors: t.handshakeErrs.Load(),
		PlaintextRefused: t.plaintext.Load(), Relays: t.relays.Load(),
	}
}

// Up reports whether the listener still accepts.
func (t *TLSListener) Up() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.closed
}

// Close stops accepting and waits, up to ctx, for the relays to end (they end when the server
// closes their connections, e.g. at Shutdown); then it cuts the rest and waits for them.
func (t *TLSListener) Close(ctx context.Context) error {
	t.mu.Lock()
	already := t.closed
	t.closed = true
	t.mu.Unlock()
	if already {
		return nil
	}
	err := t.ln.Close()
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
		return err
	case <-ctx.Done():
	}
	t.mu.Lock()
	for c := range t.conns {
		_ = c.Close()
	}
	t.mu.Unlock()
	<-done
	return errors.Join(err, ctx.Err())
}

func (t *TLSListener) accept() {
	defer t.wg.Done()
	for {
		t.slots <- struct{}{}
		raw, err := t.ln.Accept()
		if err != nil {
			<-t.slots
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// EMFILE and the like: back off instead of spinning; the plaintext listener is unaffected.
			t.log.Warn("TLS accept failed", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !t.track(raw) {
			<-t.slots
			_ = raw.Close()
			return
		}
		t.wg.Add(1)
		go t.serve(raw)
	}
}

// track records c for a forced close; false once the listener is closed.
func (t *TLSListener) track(c net.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *TLSListener) untrack(c net.Conn) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// serve handshakes one client and relays it to the server.
func (t *TLSListener) serve(raw net.Conn) {
	defer t.wg.Done()
	defer t.untrack(raw)
	client, err := t.handshake(raw)
	<-t.slots
	if err != nil {
		_ = raw.Close()
		return
	}
	back, err := net.DialTimeout("tcp", t.backend, 5*time.Second)
	if err != nil {
		t.log.Error("TLS relay: cannot reach the lock server", "backend", t.backend, "err", err)
		_ = client.Close()
		return
	}
	t.relays.Add(1)
	defer t.relays.Add(-1)
	t.log.Debug("TLS connection relayed", "remote", raw.RemoteAddr().String(), "relay", back.LocalAddr().String())
	relayPair(client, back)
}

// handshake runs the TLS handshake on raw (nothing to do for a plain relay). A client that
// speaks plaintext wwly gets an ERROR frame it can read, saying this port wants TLS, the way
// net/http answers plain HTTP sent to an HTTPS port.
func (t *TLSListener) handshake(raw net.Conn) (net.Conn, error) {
	if t.cfg == nil {
		return raw, nil
	}
	tc := tls.Server(raw, t.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), tlsHandshakeTimeout)
	defer cancel()
	err := tc.HandshakeContext(ctx)
	if err == nil {
		t.handshakes.Add(1)
		return tc, nil
	}
	t.handshakeErrs.Add(1)
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) && rhe.Conn != nil {
		t.plaintext.Add(1)
		_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = raw.Write(wire.AppendError(nil, 0, wire.CodeBadFrame,
			"this port requires TLS: connect with TLS (Go: client.WithTLS; CLI: --tls-ca or WWLY_TLS_CA)"))
	}
	t.log.Info("TLS handshake failed", "remote", raw.RemoteAddr().String(), "err", err)
	return nil, fmt.Errorf("%w: handshake: %w", ErrTLS, err)
}

// relayPair copies both ways until one side ends, then closes both: a lock belongs to its
// connection, so a half-dead relay must never keep one alive.
func relayPair(client, back net.Conn) {
	done := make(chan struct{})
	go func() {
		copyConn(back, client, 0)
		_ = back.Close()
		_ = client.Close()
		close(done)
	}()
	copyConn(client, back, tlsWriteTimeout)
	_ = client.Close()
	_ = back.Close()
	<-done
}

// copyConn copies src to dst until either fails. With writeTimeout > 0 each write must finish
// within it: a client that stops reading cannot pin the relay once the server has dropped it.
func copyConn(dst, src net.Conn, writeTimeout time.Duration) {
	buf := make([]byte, relayBuf)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if writeTimeout > 0 {
				_ = dst.SetWriteDeadline(time.Now().Add(writeTimeout))
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF, a reset or a TLS alert: the connection is gone either way
		}
	}
}
