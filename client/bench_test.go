package client

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// reportP50 reports the median of the recorded per-op durations.
func reportP50(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkCycle is one uncontended Lock+Unlock against an in-process server: the release is
// pipelined, so a cycle should cost about one loopback round trip (compare BenchmarkEchoRTT).
func BenchmarkCycle(b *testing.B) {
	for _, mode := range ioModes {
		b.Run(mode.String(), func(b *testing.B) {
			addr := startServer(b, nil)
			m := dial(b, addr, WithIOMode(mode)).Mutex("bench")
			ctx := context.Background()
			for range 100 { // warm up connections and buffers
				if err := m.LockContext(ctx); err != nil {
					b.Fatal(err)
				}
				m.Unlock()
			}
			durs := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if err := m.LockContext(ctx); err != nil {
					b.Fatal(err)
				}
				m.Unlock()
				durs = append(durs, time.Since(t0))
			}
			b.StopTimer()
			reportP50(b, durs)
		})
	}
}

// BenchmarkEchoRTT is the yardstick: a 16-byte round trip to a loopback echo server, with the
// client reading on a net.Conn or on a blocking socket in the benchmark goroutine.
func BenchmarkEchoRTT(b *testing.B) {
	for _, mode := range ioModes {
		b.Run(mode.String(), func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				buf := make([]byte, 16)
				for {
					if _, err := io.ReadFull(conn, buf); err != nil {
						return
					}
					if _, err := conn.Write(buf); err != nil {
						return
					}
				}
			}()
			t, err := dialTransport(context.Background(), ln.Addr().String(), mode)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { t.Close(); t.readerDone() }()
			msg, buf := make([]byte, 16), make([]byte, 16)
			rtt := func() {
				if _, err := t.Write(msg); err != nil {
					b.Fatal(err)
				}
				for got := 0; got < len(buf); {
					n, err := t.Read(buf[got:])
					if err != nil {
						b.Fatal(err)
					}
					got += n
				}
			}
			for range 100 {
				rtt()
			}
			durs := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				rtt()
				durs = append(durs, time.Since(t0))
			}
			b.StopTimer()
			reportP50(b, durs)
		})
	}
}

// BenchmarkUncontended is Lock+Unlock of one Mutex nobody else wants, as a user writes it
// (default options, Lock and Unlock): one round trip per op, and no allocation (-benchmem).
func BenchmarkUncontended(b *testing.B) {
	addr := startServer(b, nil)
	m := dial(b, addr).Mutex("bench")
	for range 100 {
		m.Lock()
		m.Unlock()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m.Lock()
		m.Unlock()
	}
}

// BenchmarkHandoff is one lock handed back and forth between Clients (one connection and one
// goroutine each, as worker processes have), each looping Lock+Unlock: ns/op is per handoff.
func BenchmarkHandoff(b *testing.B) {
	for _, w := range []int{2, 8} {
		b.Run(fmt.Sprintf("W=%d", w), func(b *testing.B) {
			addr := startServer(b, nil)
			ms := make([]*Mutex, w)
			for i := range ms {
				ms[i] = dial(b, addr).Mutex("hot")
			}
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			var left atomic.Int64
			left.Store(int64(b.N))
			for _, m := range ms {
				wg.Go(func() {
					for left.Add(-1) >= 0 {
						m.Lock()
						m.Unlock()
					}
				})
			}
			wg.Wait()
		})
	}
}

// TestCycleAllocs holds the hot path to what BenchmarkCycle reports: an uncontended Lock+Unlock
// on the default transport allocates nothing (a closure per socket call once cost 4 a cycle).
func TestCycleAllocs(t *testing.T) {
	m := dial(t, startServer(t, nil)).Mutex("allocs")
	ctx := context.Background()
	cycle := func() {
		if err := m.LockContext(ctx); err != nil {
			t.Fatal(err)
		}
		m.Unlock()
	}
	for range 100 {
		cycle() // warm up buffers
	}
	if n := testing.AllocsPerRun(500, cycle); n > 0 {
		t.Errorf("Lock+Unlock allocates %.1f times per cycle, want 0", n)
	}
}
