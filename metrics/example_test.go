package metrics_test

import (
	"log/slog"

	"github.com/wwly/wwly/metrics"
	"github.com/wwly/wwly/server"
)

// A server with its metrics, pprof and health endpoint on a loopback port.
func ExampleServe() {
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = "/var/lib/wwly" // holds the fencing-token epoch
	srv, err := server.New(cfg)
	if err != nil || srv.Start() != nil {
		return
	}
	ep, err := metrics.Serve("127.0.0.1:9177", srv, nil, slog.Default())
	if err != nil {
		return
	}
	_ = ep // scrape http://127.0.0.1:9177/metrics; GET /healthz; go tool pprof http://127.0.0.1:9177/debug/pprof/profile
}
