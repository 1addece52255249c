package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
)

// WithTLS makes Dial speak TLS (1.3 at least) to a server's TLS listener (`wwly serve
// --tls-addr`). cfg is cloned; an empty ServerName is taken from the address dialled, as
// crypto/tls.Dial does. TLS needs the IONetConn I/O mode; nil turns TLS off.
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		if cfg == nil {
			o.tls = nil
			return
		}
		o.tls = cfg.Clone()
	}
}

// TLSFiles names the PEM files of a client TLS configuration.
type TLSFiles struct {
	CA   string // CA certificates the server's certificate must chain to; "" = the system roots
	Cert string // optional client certificate chain, for servers that require one (mTLS)
	Key  string // its private key
}

// LoadTLSConfig builds a client tls.Config (TLS 1.3 minimum) from files.
func LoadTLSConfig(f TLSFiles) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("wwly: tls CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("wwly: tls CA %s holds no PEM certificate", f.CA)
		}
		cfg.RootCAs = pool
	}
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("wwly: tls: a client certificate needs both the certificate and the key file")
	}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("wwly: tls client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// dialWith opens the transport Dial asked for: TLS when configured, else dialTransport.
func dialWith(ctx context.Context, addr string, o *options) (transport, error) {
	if o.tls == nil {
		return dialTransport(ctx, addr, o.ioMode)
	}
	if o.ioMode == IOBlockingFD {
		return nil, fmt.Errorf("%w: TLS needs the %v I/O mode, not %v", ErrProtocol, IONetConn, o.ioMode)
	}
	cfg := o.tls
	if cfg.MinVersion < tls.VersionTLS13 {
		cfg = cfg.Clone()
		cfg.MinVersion = tls.VersionTLS13
	}
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		var rhe tls.RecordHeaderError
		if errors.As(err, &rhe) {
			return nil, fmt.Errorf("TLS handshake: the server does not speak TLS on this port (a plaintext listener?): %w", err)
		}
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tlsTransport{conn.(*tls.Conn)}, nil
}

// tlsTransport is a TLS connection. tls.Conn's Close, called while a Write is blocked, closes the
// socket without sending close_notify, so it cannot hang behind a stuck writer.
type tlsTransport struct{ *tls.Conn }

func (tlsTransport) readerStart() {}
func (tlsTransport) readerDone()  {}

func (t tlsTransport) keepAlive(cfg net.KeepAliveConfig) error {
	tc, ok := t.NetConn().(*net.TCPConn)
	if !ok {
		return fmt.Errorf("keepalive: %T is not a TCP connection", t.NetConn())
	}
	return tc.SetKeepAliveConfig(cfg)
}

var _ net.Conn = tlsTransport{}
