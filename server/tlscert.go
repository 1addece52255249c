package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certCheckEvery is how often a TLS listener looks at its certificate files for a new pair.
const certCheckEvery = 10 * time.Second

// fileStamp identifies a version of a file cheaply.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{fi.ModTime(), fi.Size()}, nil
}

// certReloader serves the listener's certificate and picks up a rotated pair (cert-manager,
// certbot, a deploy) without a restart: at most every `every`, a handshake stats both files and,
// when either changed, loads the pair again. A pair that does not load (say, the certificate
// is written but not yet its key) is logged and the previous one kept; it is tried again when
// the files change again. Safe for concurrent use (tls.Config.GetCertificate).
type certReloader struct {
	certFile, keyFile string
	every             time.Duration
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamps  [2]fileStamp
	checked time.Time
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, every: certCheckEvery, log: log}
	stamps, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: load key pair %s, %s: %w", ErrTLS, certFile, keyFile, err)
	}
	r.cert, r.stamps, r.checked = &cert, stamps, time.Now()
	return r, nil
}

func (r *certReloader) stat() ([2]fileStamp, error) {
	var s [2]fileStamp
	var err error
	if s[0], err = stampOf(r.certFile); err != nil {
		return s, fmt.Errorf("%w: certificate: %w", ErrTLS, err)
	}
	if s[1], err = stampOf(r.keyFile); err != nil {
		return s, fmt.Errorf("%w: key: %w", ErrTLS, err)
	}
	return s, nil
}

// get is the listener's tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.every {
		r.checked = now
		r.reloadLocked()
	}
	return r.cert, nil
}

// reloadLocked loads the pair again if its files changed. mu must be held.
func (r *certReloader) reloadLocked() {
	stamps, err := r.stat()
	if err != nil {
		r.log.Warn("TLS certificate files unreadable; keeping the loaded certificate", "err", err)
		return
	}
	if stamps == r.stamps {
		return
	}
	r.stamps = stamps
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn("TLS certificate changed but does not load; keeping the previous one", "cert", r.certFile, "err", err)
		return
	}
	r.cert = &cert
	r.log.Info("TLS certificate reloaded", "cert", r.certFile)
}
