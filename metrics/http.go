package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wwly/wwly/server"
)

// ErrListen is wrapped when the metrics endpoint cannot listen.
var ErrListen = errors.New("metrics: listen")

// NewRegistry returns a registry holding c plus the standard Go runtime and process collectors.
// A fresh registry (not prometheus.DefaultRegisterer) keeps tests and several servers in one
// process apart.
func NewRegistry(c prometheus.Collector) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, col := range []prometheus.Collector{
		c,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("metrics: register: %w", err)
		}
	}
	return reg, nil
}

// HealthFunc reports nil when the server serves.
type HealthFunc func(ctx context.Context) error

// NewHandler is the endpoint's mux: /metrics (Prometheus text format from g), /healthz (200
// "ok" while health returns nil, else 503 with the reason) and /debug/pprof/ (net/http/pprof,
// registered here rather than on http.DefaultServeMux).
func NewHandler(g prometheus.Gatherer, health HealthFunc) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{Timeout: 2 * scrapeTimeout}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := health(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Endpoint is a running HTTP server for a Handler.
type Endpoint struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen serves h on addr (port 0 picks a free one) until Close.
func Listen(addr string, h http.Handler, log *slog.Logger) (*Endpoint, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrListen, addr, err)
	}
	e := &Endpoint{
		ln:   ln,
		done: make(chan error, 1),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       time.Minute,
			// No WriteTimeout: /debug/pprof/profile streams for as long as it is asked (30 s default).
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
	}
	go func() { e.done <- e.srv.Serve(ln) }()
	log.Info("metrics listening", "addr", ln.Addr().String(), "paths", "/metrics /healthz /debug/pprof/")
	return e, nil
}

// Addr is the address listened on.
func (e *Endpoint) Addr() string { return e.ln.Addr().String() }

// Close stops the endpoint, letting requests in flight finish until ctx ends.
func (e *Endpoint) Close(ctx context.Context) error {
	err := e.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, e.srv.Close())
	}
	if serr := <-e.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("metrics: close: %w", err)
	}
	return nil
}

// Serve exposes srv (and tl, when not nil) on addr: the usual set-up of `wwly serve
// --metrics-addr`. /healthz is 200 while srv listens and answers and tl, if any, accepts.
func Serve(addr string, srv *server.Server, tl *server.TLSListener, log *slog.Logger) (*Endpoint, error) {
	var tlsSrc TLSSource
	if tl != nil {
		tlsSrc = tl
	}
	reg, err := NewRegistry(NewCollector(srv, tlsSrc))
	if err != nil {
		return nil, err
	}
	health := func(ctx context.Context) error {
		st, err := srv.Stats(ctx)
		switch {
		case err != nil:
			return err
		case !st.Up:
			return errors.New("lock server shutting down")
		case tl != nil && !tl.Up():
			return errors.New("TLS listener closed")
		}
		return nil
	}
	return Listen(addr, NewHandler(reg, health), log)
}
