package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/wwly/wwly/wire"
)

// BenchmarkEventFanout: W connections wait on one Event, another connection SETs it; one op is
// the time from writing SET to reading the last waiter's ACQUIRED (the server's broadcast path
// over loopback, not the process benchmark, which belongs in `wwly bench`).
func BenchmarkEventFanout(b *testing.B) {
	for _, loops := range []int{1, 2} {
		for _, w := range []int{16, 256} {
			b.Run(fmt.Sprintf("loops=%d/waiters=%d", loops, w), func(b *testing.B) {
				// The waiters send nothing while they wait: keep a stall of this loaded box from
				// reading as silence.
				benchFanout(b, startServer(b, func(c *Config) {
					c.Loops, c.HeartbeatInterval, c.HeartbeatTimeout = loops, time.Minute, 2*time.Minute
				}), w)
			})
		}
	}
}

func benchFanout(b *testing.B, s *Server, w int) {
	setter := benchDial(b, s.Addr())
	waiters := make([]*benchConn, w)
	for i := range waiters {
		waiters[i] = benchDial(b, s.Addr())
	}
	name := []byte("fanout")
	wait := wire.Frame{Prim: wire.PrimEvent, Action: wire.ActAcquire, Wait: -1, Name: name}
	set := wire.AppendOp(nil, 2, &wire.Frame{Prim: wire.PrimEvent, Action: wire.ActSet, Name: name})
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		for _, bc := range waiters {
			bc.out = wire.AppendOp(bc.out[:0], 2, &wait)
			if err := bc.write(bc.out); err != nil {
				b.Fatal(err)
			}
		}
		// With several loops a wait reaches the name's shard through an inbox, so only STATUS
		// tells when every wait is queued (a SET before would be forgotten).
		awaitWaiters(b, setter, name, w)
		b.StartTimer()
		start := time.Now()
		if err := setter.write(set); err != nil {
			b.Fatal(err)
		}
		for _, bc := range waiters {
			if _, err := bc.until(wire.Acquired); err != nil {
				b.Fatal(err)
			}
		}
		total += time.Since(start)
		if _, err := setter.until(wire.OK); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/last-wake")
}

// awaitWaiters polls STATUS on bc until name has want waiters (bounded: 10 s).
func awaitWaiters(b *testing.B, bc *benchConn, name []byte, want int) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := bc.write(wire.AppendStatus(nil, 9, [][]byte{name})); err != nil {
			b.Fatal(err)
		}
		f, err := bc.r.Next()
		if err != nil || f.Type != wire.StatusReply {
			b.Fatalf("STATUS: %v %v", f, err)
		}
		if len(f.Locks) == 1 && int(f.Locks[0].Waiters) == want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d waiters queued, want %d", len(f.Locks), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
