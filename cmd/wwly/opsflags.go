package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/wwly/wwly/client"
	"github.com/wwly/wwly/metrics"
	"github.com/wwly/wwly/server"
)

// The operations flags: a TLS listener and a metrics endpoint for `wwly serve`, TLS for the
// client commands. They return plain errors; the commands choose the exit status.

// errFlags is wrapped by every flag error here.
var errFlags = errors.New("invalid flags")

// serveOps are the `wwly serve` flags for TLS and metrics.
type serveOps struct {
	tlsAddr, tlsCert, tlsKey, tlsClientCA string
	metricsAddr                           string

	tlsCfg *tls.Config // loaded by load
}

func (o *serveOps) register(f *pflag.FlagSet) {
	f.StringVar(&o.tlsAddr, "tls-addr", "", "also listen for TLS 1.3 clients on this host:port (needs --tls-cert and --tls-key; empty = no TLS listener)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate chain of the TLS listener")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key of the TLS listener")
	f.StringVar(&o.tlsClientCA, "tls-client-ca", "", "PEM CA certificates: TLS clients must present a certificate signed by one (mTLS)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics, /healthz and /debug/pprof on this host:port (empty = off; pprof exposes internals: keep it on loopback or a private network)")
}

// load checks the flags and reads the TLS files, before the server starts; log reports
// certificate reloads later.
func (o *serveOps) load(log *slog.Logger) error {
	tlsFiles := o.tlsCert != "" || o.tlsKey != "" || o.tlsClientCA != ""
	switch {
	case o.tlsAddr == "" && tlsFiles:
		return fmt.Errorf("%w: --tls-cert, --tls-key and --tls-client-ca need --tls-addr", errFlags)
	case o.tlsAddr != "" && (o.tlsCert == "" || o.tlsKey == ""):
		return fmt.Errorf("%w: --tls-addr needs --tls-cert and --tls-key", errFlags)
	case o.tlsAddr == "":
		return nil
	}
	cfg, err := server.LoadTLSConfig(server.TLSFiles{Cert: o.tlsCert, Key: o.tlsKey, ClientCA: o.tlsClientCA, Logger: log})
	if err != nil {
		return err
	}
	o.tlsCfg = cfg
	return nil
}

// opsRun is what start started; close stops it after the server's Shutdown.
type opsRun struct {
	tl *server.TLSListener
	ep *metrics.Endpoint
}

// start opens the TLS listener and the metrics endpoint of a started server.
func (o *serveOps) start(srv *server.Server, log *slog.Logger) (*opsRun, error) {
	r := &opsRun{}
	if o.tlsCfg != nil {
		tl, err := srv.ServeTLS(o.tlsAddr, o.tlsCfg)
		if err != nil {
			return nil, err
		}
		r.tl = tl
	}
	if o.metricsAddr != "" {
		ep, err := metrics.Serve(o.metricsAddr, srv, r.tl, log)
		if err != nil {
			r.close()
			return nil, err
		}
		r.ep = ep
	}
	return r, nil
}

// close stops the TLS listener (its clients have been told of the shutdown through their
// relays) and the metrics endpoint, which answered 503 on /healthz while the server drained.
func (r *opsRun) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r.tl != nil {
		_ = r.tl.Close(ctx)
	}
	if r.ep != nil {
		_ = r.ep.Close(ctx)
	}
}

// tlsFlags are the client commands' TLS flags, each with an environment fallback.
type tlsFlags struct {
	on                   bool
	ca, cert, key, sname string
}

func (t *tlsFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&t.on, "tls", false, "connect with TLS, verifying the server against the system roots (default $WWLY_TLS; implied by --tls-ca/--tls-cert)")
	f.StringVar(&t.ca, "tls-ca", "", "connect with TLS, verifying the server against these PEM CA certificates (default $WWLY_TLS_CA)")
	f.StringVar(&t.cert, "tls-cert", "", "PEM client certificate, for servers that require one (default $WWLY_TLS_CERT)")
	f.StringVar(&t.key, "tls-key", "", "PEM private key of --tls-cert (default $WWLY_TLS_KEY)")
	f.StringVar(&t.sname, "tls-server-name", "", "name the server's certificate must carry (default $WWLY_TLS_SERVER_NAME, else the --addr host)")
}

// option resolves the flags and their environment fallbacks into a client option; nil means
// plaintext.
func (t *tlsFlags) option() (client.Option, error) {
	env := func(v *string, name string) {
		if *v == "" {
			*v = os.Getenv(name)
		}
	}
	r := *t
	env(&r.ca, "WWLY_TLS_CA")
	env(&r.cert, "WWLY_TLS_CERT")
	env(&r.key, "WWLY_TLS_KEY")
	env(&r.sname, "WWLY_TLS_SERVER_NAME")
	if !r.on {
		if s := os.Getenv("WWLY_TLS"); s != "" {
			on, err := strconv.ParseBool(s)
			if err != nil {
				return nil, fmt.Errorf("%w: WWLY_TLS=%q: want true or false", errFlags, s)
			}
			r.on = on
		}
	}
	if !r.on && r.ca == "" && r.cert == "" && r.key == "" {
		if r.sname != "" {
			return nil, fmt.Errorf("%w: --tls-server-name without TLS (add --tls or --tls-ca)", errFlags)
		}
		return nil, nil
	}
	cfg, err := client.LoadTLSConfig(client.TLSFiles{CA: r.ca, Cert: r.cert, Key: r.key})
	if err != nil {
		return nil, err
	}
	cfg.ServerName = r.sname
	return client.WithTLS(cfg), nil
}
