// Package metrics exposes a wwly server to operators over HTTP: Prometheus metrics at /metrics,
// Go's profiler at /debug/pprof/, and a health check at /healthz (`wwly serve --metrics-addr`).
//
// The server keeps its counters itself (server.Stats, plain adds on its event loops); this
// package only reads a snapshot per scrape through a prometheus.Collector, so no Prometheus type
// reaches the server and a scrape costs each event loop one wake-up.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wwly/wwly/server"
	"github.com/wwly/wwly/wire"
)

// StatsSource is what the Collector reads; *server.Server implements it.
type StatsSource interface {
	Stats(ctx context.Context) (server.Stats, error)
}

// TLSSource is a TLS listener's counters; *server.TLSListener implements it.
type TLSSource interface {
	Stats() server.TLSStats
}

// scrapeTimeout bounds one snapshot: a wedged event loop shows as wwly_up 0, not a hung scrape.
const scrapeTimeout = 2 * time.Second

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("wwly_"+name, help, labels, nil)
}

var (
	upDesc          = desc("up", "1 when the lock server is listening and its event loops answer, else 0.")
	connectionsDesc = desc("connections", "Open client connections (TLS ones included: each is relayed).")
	sessionsDesc    = desc("sessions", "Connections past HELLO.")
	locksDesc       = desc("locks", "Live locks: names with a holder or waiters.")
	waitersDesc     = desc("waiters", "Queued acquires over all names (queue depth).")

	acceptedDesc      = desc("connections_accepted_total", "Connections accepted (refused ones included).")
	sessionsGoneDesc  = desc("sessions_closed_total", "Sessions closed; their locks were released.")
	grantsDesc        = desc("grants_total", "Locks granted.")
	releasesDesc      = desc("releases_total", "RELEASE requests answered OK.")
	renewalsDesc      = desc("renewals_total", "RENEW requests answered OK.")
	timeoutsDesc      = desc("timeouts_total", "Acquires that failed with TIMEOUT (a wait ran out, or a try-lock found the lock busy).")
	cancellationsDesc = desc("cancellations_total", "Waits ended by CANCEL.")
	leasesLostDesc    = desc("leases_lost_total", "Locks taken back because the holder's lease ran out (LOST sent).")
	errorsDesc        = desc("errors_total", "ERROR frames sent, by code.", "code")
	cutsDesc          = desc("connections_cut_total", "Connections the server closed, by reason.", "reason")
	grantWaitDesc     = desc("grant_wait_seconds", "Time from an ACQUIRE's arrival at the server to its grant, server clock: about 0 for a free lock, the queueing time of a handoff otherwise.")

	tlsHandshakesDesc = desc("tls_handshakes_total", "TLS handshakes completed on the TLS listener.")
	tlsFailedDesc     = desc("tls_handshake_errors_total", "TLS handshakes that failed (plaintext clients on the TLS port included).")
	tlsPlainDesc      = desc("tls_plaintext_refused_total", "Clients that spoke plaintext to the TLS port and were told to use TLS.")
	tlsRelaysDesc     = desc("tls_relays", "TLS connections being relayed to the lock server.")
)

// Collector is a prometheus.Collector over a server's Stats and, optionally, its TLS listener.
// Safe for concurrent use.
type Collector struct {
	src StatsSource
	tls TLSSource // nil without a TLS listener
}

// NewCollector reads src, and tls when not nil.
func NewCollector(src StatsSource, tls TLSSource) *Collector {
	return &Collector{src: src, tls: tls}
}

var _ prometheus.Collector = (*Collector)(nil)

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		upDesc, connectionsDesc, sessionsDesc, locksDesc, waitersDesc,
		acceptedDesc, sessionsGoneDesc, grantsDesc, releasesDesc, renewalsDesc, timeoutsDesc,
		cancellationsDesc, leasesLostDesc, errorsDesc, cutsDesc, grantWaitDesc,
	} {
		ch <- d
	}
	if c.tls != nil {
		for _, d := range []*prometheus.Desc{tlsHandshakesDesc, tlsFailedDesc, tlsPlainDesc, tlsRelaysDesc} {
			ch <- d
		}
	}
}

// Collect takes one snapshot and sends it. When the server does not answer, only wwly_up 0
// (and the TLS listener's metrics) are sent.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.tls != nil {
		t := c.tls.Stats()
		counter(ch, tlsHandshakesDesc, t.Handshakes)
		counter(ch, tlsFailedDesc, t.HandshakeErrors)
		counter(ch, tlsPlainDesc, t.PlaintextRefused)
		gauge(ch, tlsRelaysDesc, float64(t.Relays))
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.src.Stats(ctx)
	if err != nil || !st.Up {
		gauge(ch, upDesc, 0)
		if err != nil {
			return
		}
	} else {
		gauge(ch, upDesc, 1)
	}
	gauge(ch, connectionsDesc, float64(st.Connections))
	gauge(ch, sessionsDesc, float64(st.Sessions))
	gauge(ch, locksDesc, float64(st.Locks))
	gauge(ch, waitersDesc, float64(st.Waiters))
	counter(ch, acceptedDesc, st.ConnectionsAccepted)
	counter(ch, sessionsGoneDesc, st.SessionsClosed)
	counter(ch, grantsDesc, st.Grants)
	counter(ch, releasesDesc, st.Releases)
	counter(ch, renewalsDesc, st.Renewals)
	counter(ch, timeoutsDesc, st.Timeouts)
	counter(ch, cancellationsDesc, st.Cancellations)
	counter(ch, leasesLostDesc, st.LeasesLost)
	for code, n := range st.Errors {
		counter(ch, errorsDesc, n, CodeLabel(code))
	}
	counter(ch, cutsDesc, st.SlowConsumerCuts, "slow_consumer")
	counter(ch, cutsDesc, st.HeartbeatCuts, "heartbeat")
	h := st.GrantWait
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[b.Seconds()] = h.Cumulative[i]
	}
	ch <- prometheus.MustNewConstHistogram(grantWaitDesc, h.Count, h.Sum.Seconds(), buckets)
}

// codeLabels are the wire codes' names in docs/protocol.md (section "Error codes").
var codeLabels = map[wire.Code]string{
	wire.CodeBadFrame: "BAD_FRAME", wire.CodeFrameTooLarge: "FRAME_TOO_LARGE", wire.CodeVersion: "VERSION",
	wire.CodeAuth: "AUTH", wire.CodeNotHeld: "NOT_HELD", wire.CodeTimeout: "TIMEOUT",
	wire.CodeQueueFull: "QUEUE_FULL", wire.CodeCancelled: "CANCELLED",
	wire.CodeTooManyRequests: "TOO_MANY_REQUESTS", wire.CodeNameLength: "NAME_LENGTH",
	wire.CodeShutdown: "SHUTDOWN", wire.CodeTooManyConns: "TOO_MANY_CONNS", wire.CodeDuplicate: "DUPLICATE",
	wire.CodeLeaseExpired: "LEASE_EXPIRED", wire.CodeSlowConsumer: "SLOW_CONSUMER", wire.CodeInternal: "INTERNAL",
}

// CodeLabel is the errors_total label of a wire code: its protocol.md name ("NOT_HELD"), or
// CODE_<n> for a code this build does not know.
func CodeLabel(c wire.Code) string {
	if s, ok := codeLabels[c]; ok {
		return s
	}
	return "CODE_" + strconv.Itoa(int(c))
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}
