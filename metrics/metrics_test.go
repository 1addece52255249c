package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/wwly/wwly/client"
	"github.com/wwly/wwly/internal/tlstest"
	"github.com/wwly/wwly/server"
	"github.com/wwly/wwly/wire"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a running server with a TLS listener and a metrics endpoint.
type fixture struct {
	srv *server.Server
	tl  *server.TLSListener
	ep  *Endpoint
	pki tlstest.Files
}

func start(t *testing.T) *fixture {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Logger = quiet
	cfg.DataDir = t.TempDir()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: srv}
	if f.pki, err = tlstest.Write(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	tcfg, err := server.LoadTLSConfig(server.TLSFiles{Cert: f.pki.ServerCert, Key: f.pki.ServerKey})
	if err != nil {
		t.Fatal(err)
	}
	if f.tl, err = srv.ServeTLS("127.0.0.1:0", tcfg); err != nil {
		t.Fatal(err)
	}
	if f.ep, err = Serve("127.0.0.1:0", srv, f.tl, quiet); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = f.tl.Close(ctx)
		if err := f.ep.Close(ctx); err != nil {
			t.Errorf("endpoint Close: %v", err)
		}
	})
	return f
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape fetches /metrics and parses it.
func scrape(t *testing.T, f *fixture) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := get(t, "http://"+f.ep.Addr()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the value of the sample of name whose labels include the given pairs.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	fam := fams[name]
	if fam == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range fam.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || lp.GetName() == labels[i] && lp.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	t.Fatalf("no sample of %s with labels %v", name, labels)
	return 0
}

// TestScrape does locks over plaintext and TLS, then checks the scraped values.
func TestScrape(t *testing.T) {
	f := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	plain, err := client.Dial(ctx, f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	tcfg, err := client.LoadTLSConfig(client.TLSFiles{CA: f.pki.CA})
	if err != nil {
		t.Fatal(err)
	}
	secure, err := client.Dial(ctx, f.tl.Addr(), client.WithTLS(tcfg))
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	const rounds = 5
	for i := 0; i < rounds; i++ {
		for _, c := range []*client.Client{plain, secure} {
			m := c.Mutex("m")
			if err := m.LockContext(ctx); err != nil {
				t.Fatal(err)
			}
			if err := m.UnlockContext(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	held := plain.Mutex("held")
	if err := held.LockContext(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := secure.Mutex("held").TryLockContext(ctx); ok || err != nil {
		t.Fatalf("TryLock of a held lock: %v %v", ok, err)
	}

	fams := scrape(t, f)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"wwly_up", nil, 1},
		{"wwly_grants_total", nil, 2*rounds + 1},
		{"wwly_releases_total", nil, 2 * rounds},
		{"wwly_timeouts_total", nil, 1},
		{"wwly_errors_total", []string{"code", "TIMEOUT"}, 1},
		{"wwly_sessions", nil, 2},
		{"wwly_connections", nil, 2}, // the TLS client is one relayed connection
		{"wwly_locks", nil, 1},
		{"wwly_waiters", nil, 0},
		{"wwly_grant_wait_seconds", nil, 2*rounds + 1},
		{"wwly_tls_handshakes_total", nil, 1},
		{"wwly_tls_relays", nil, 1},
		{"wwly_connections_cut_total", []string{"reason", "heartbeat"}, 0},
	} {
		if got := value(t, fams, tc.name, tc.labels...); got != tc.want {
			t.Errorf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_open_fds"] == nil {
		t.Error("Go runtime or process metrics missing")
	}
}

// TestHealthAndPprof: /healthz follows the server's life; pprof is served on the same mux.
func TestHealthAndPprof(t *testing.T) {
	f := start(t)
	base := "http://" + f.ep.Addr()
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, base+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Fatalf("/debug/pprof/: %d", code)
	}
	if code, _ := get(t, base+"/debug/pprof/goroutine?debug=1"); code != http.StatusOK {
		t.Fatalf("/debug/pprof/goroutine: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz after Shutdown: %d %q", code, body)
	}
	if v := value(t, scrape(t, f), "wwly_up"); v != 0 {
		t.Fatalf("wwly_up after Shutdown = %v", v)
	}
}

// TestLint checks every metric name and help text against Prometheus' conventions.
func TestLint(t *testing.T) {
	f := start(t)
	c, err := client.Dial(context.Background(), f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := c.Mutex("lint")
	m.Lock()
	_ = m.UnlockContext(context.Background())
	if _, err := c.Mutex("lint").TryLockContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(NewCollector(f.srv, f.tl))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(NewCollector(f.srv, f.tl)); n < 20 {
		t.Errorf("only %d metrics collected", n)
	}
}

// TestCollectorDown: a source that fails yields wwly_up 0 and nothing else from the server.
func TestCollectorDown(t *testing.T) {
	c := NewCollector(failing{}, nil)
	if n := testutil.CollectAndCount(c); n != 1 {
		t.Fatalf("%d metrics from a failing source, want only wwly_up", n)
	}
	if v := testutil.ToFloat64(c); v != 0 {
		t.Fatalf("wwly_up = %v", v)
	}
}

type failing struct{}

func (failing) Stats(context.Context) (server.Stats, error) {
	return server.Stats{}, errors.New("down")
}

func TestCodeLabel(t *testing.T) {
	for code, want := range map[int]string{1: "BAD_FRAME", 5: "NOT_HELD", 15: "SLOW_CONSUMER", 16: "INTERNAL", 99: "CODE_99"} {
		if got := CodeLabel(wire.Code(code)); got != want {
			t.Errorf("CodeLabel(%d) = %q, want %q", code, got, want)
		}
	}
}
