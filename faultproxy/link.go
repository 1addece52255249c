package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// link is one proxied connection: the client's socket and the one dialled to the target.
type link struct {
	client, target *net.TCPConn
	p              *Proxy

	once sync.Once
}

// end closes both sockets once; with reset, SO_LINGER 0 makes the close send RST.
func (l *link) end(reset bool) {
	l.once.Do(func() {
		if reset {
			l.p.stats.resets.Add(1)
			_ = l.client.SetLinger(0)
			_ = l.target.SetLinger(0)
		}
		_ = l.client.Close()
		_ = l.target.Close()
	})
}

// pump copies one direction (up: client → target) through that direction's toxics until EOF,
// an error, or a toxic ends the link. On EOF it half-closes the far side so the other direction
// can finish.
func (l *link) pump(up bool, rng *rand.Rand) {
	src, dst := l.client, l.target
	bytes, chunks := &l.p.stats.upB, &l.p.stats.upC
	if !up {
		src, dst = l.target, l.client
		bytes, chunks = &l.p.stats.downB, &l.p.stats.downC
	}
	buf := make([]byte, 32<<10)
	var sent int64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			t := l.p.toxics(up)
			off := 0
			for _, c := range Cuts(rng, n, t.Slice) {
				chunk, stop, reset := limit(buf[off:off+c], sent, t)
				off += c
				if t.Delay > 0 {
					time.Sleep(t.Delay)
				}
				if len(chunk) > 0 {
					if _, werr := dst.Write(chunk); werr != nil {
						l.end(false)
						return
					}
					sent += int64(len(chunk))
					bytes.Add(int64(len(chunk)))
					chunks.Add(1)
				}
				if stop {
					l.end(reset)
					return
				}
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			_ = dst.CloseWrite() // pass the EOF on; the other direction may still run
			return
		default:
			l.end(true) // a reset (or our own close): pass it on as a reset
			return
		}
	}
}

// limit trims chunk so the direction's byte count does not pass ResetAfter or CloseAfter, and
// says whether the link must end after writing it (and whether by reset).
func limit(chunk []byte, sent int64, t Toxics) (out []byte, stop, reset bool) {
	end := int64(-1)
	if t.ResetAfter > 0 {
		end, reset = t.ResetAfter, true
	}
	if t.CloseAfter > 0 && (end < 0 || t.CloseAfter < end) {
		end, reset = t.CloseAfter, false
	}
	if end < 0 || sent+int64(len(chunk)) < end {
		return chunk, false, false
	}
	return chunk[:max(end-sent, 0)], true, reset
}

// Cuts splits n bytes into chunk sizes of 1..slice drawn from rng (all of n when slice is 0 or
// at least n). The sizes sum to n. It is pure given rng's state, so a seed replays a run.
func Cuts(rng *rand.Rand, n, slice int) []int {
	if n <= 0 {
		return nil
	}
	if slice <= 0 {
		return []int{n}
	}
	var out []int
	for n > 0 {
		c := 1 + rng.IntN(slice)
		if c > n {
			c = n
		}
		out = append(out, c)
		n -= c
	}
	return out
}
