package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// BenchmarkCloseSessionStall measures how long closing a connection that holds N locks stalls
// its loop for everyone else: a second connection on the same loop sends a PING right after the
// holder closes, and the PING's round trip (minus an idle round trip) is the stall. ns/op is that
// round trip; the stall-µs metric subtracts the idle one.
//
//	go test -run '^$' -bench CloseSessionStall -benchtime 5x ./server/
func BenchmarkCloseSessionStall(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("locks=", n), func(b *testing.B) {
			s := startServer(b, nil) // one loop: the holder and the prober share it
			probe := benchDial(b, s.Addr())
			idle := pingRTT(b, probe)
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				holder := benchDial(b, s.Addr())
				holdMany(b, holder, n, i)
				b.StartTimer()
				start := time.Now()
				_ = holder.c.Close()
				pingRTT(b, probe)
				total += time.Since(start)
			}
			b.ReportMetric(float64((total/time.Duration(b.N) - idle).Microseconds()), "stall-µs")
		})
	}
}

// holdMany makes bc hold n distinct locks, pipelined in batches.
func holdMany(b *testing.B, bc *benchConn, n, round int) {
	b.Helper()
	const batch = 512 // below the default max-outstanding
	for done := 0; done < n; {
		k := min(batch, n-done)
		bc.out = bc.out[:0]
		for j := range k {
			bc.req++
			bc.out = wire.AppendAcquire(bc.out, bc.req, []byte(fmt.Sprintf("r%d-lock-%07d", round, done+j)), -1, 0)
		}
		if err := bc.write(bc.out); err != nil {
			b.Fatal(err)
		}
		for range k {
			if _, err := bc.until(wire.Granted); err != nil {
				b.Fatal(err)
			}
		}
		done += k
	}
}

// pingRTT times one PING round trip on bc.
func pingRTT(b *testing.B, bc *benchConn) time.Duration {
	b.Helper()
	bc.req++
	start := time.Now()
	if err := bc.write(wire.AppendPing(nil, bc.req)); err != nil {
		b.Fatal(err)
	}
	if _, err := bc.until(wire.Pong); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
