package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecode: Decode never panics, never claims more bytes than it was given, and a frame it
// accepts re-encodes to exactly the bytes it consumed (one canonical encoding per frame).
// The seeds (every sample frame, pairs of them, truncations and malformed headers) run as
// plain tests; `go test -fuzz FuzzDecode ./wire` explores further.
func FuzzDecode(f *testing.F) {
	samples := sampleFrames()
	for i := range samples {
		enc := Append(nil, &samples[i])
		f.Add(enc)
		f.Add(enc[:len(enc)-1])
		f.Add(Append(enc, &samples[(i+1)%len(samples)]))
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 9})
	f.Add([]byte{0, 0, 0, 9, byte(OK), 0, 0, 0, 0, 0, 0, 0, 1, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Add(frameBytes(Status, u16(0xffff)))
	f.Add(frameBytes(StatusReply, u16(0xffff)))
	f.Add(frameBytes(Sessions, u16(0xffff)))
	f.Add(frameBytes(SessionsReply, u16(0xffff)))
	f.Add(frameBytes(Redirect, u16(0xffff)))
	f.Add(frameBytes(Resume, u16(0xffff)))
	f.Add(frameBytes(ClusterReply, u16(0xffff)))

	lim := Limits{MaxFrame: 4 << 10, MaxName: 64, MaxNames: 16}
	f.Fuzz(func(t *testing.T, in []byte) {
		var fr Frame
		// Decode every frame in the input, as a connection would.
		for buf := in; len(buf) > 0; {
			n, err := Decode(buf, lim, &fr)
			if n < 0 || n > len(buf) {
				t.Fatalf("n = %d with %d bytes", n, len(buf))
			}
			if err != nil {
				if n > 0 && (fr.Req != be.Uint64(buf[5:]) || fr.Type != Type(buf[4])) {
					t.Fatalf("delimited error without Type/Req: %v", err)
				}
				return
			}
			if n == 0 {
				return
			}
			if re := Append(nil, &fr); !bytes.Equal(re, buf[:n]) {
				t.Fatalf("re-encode of %v:\n got  %x\n want %x", fr.Type, re, buf[:n])
			}
			buf = buf[n:]
		}
	})
}

// FuzzReader: a Reader fed the input in small pieces yields exactly what Decode yields on the
// whole input — the same frames, then the same kind of ending.
func FuzzReader(f *testing.F) {
	samples := sampleFrames()
	var all []byte
	for i := range samples {
		all = Append(all, &samples[i])
	}
	f.Add(all, uint8(1))
	f.Add(all[:len(all)-3], uint8(7))
	f.Add(append(AppendAcquire(nil, 1, nil, 0, 0), AppendPing(nil, 2)...), uint8(2))
	f.Add([]byte{0, 0, 0, 9, byte(Ping), 0}, uint8(3))
	f.Add([]byte{0, 1, 0, 0}, uint8(1))

	lim := Limits{MaxFrame: 4 << 10, MaxName: 64, MaxNames: 16}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		r := NewReader(&chunkReader{p: in, n: int(chunk%16) + 1}, lim)
		var want Frame
		buf := in
		for range len(in) + 1 { // each round consumes at least one byte or ends
			n, derr := Decode(buf, lim, &want)
			got, rerr := r.Next()
			switch {
			case derr == nil && n > 0:
				if rerr != nil || !bytes.Equal(Append(nil, got), buf[:n]) {
					t.Fatalf("Reader gave %v, %v; Decode gave %x", got, rerr, buf[:n])
				}
				buf = buf[n:]
				continue
			case derr == nil && len(buf) == 0:
				if rerr != io.EOF {
					t.Fatalf("clean end: Reader gave %v", rerr)
				}
			case derr == nil:
				if rerr != io.ErrUnexpectedEOF {
					t.Fatalf("partial frame at the end: Reader gave %v", rerr)
				}
			default:
				if rerr == nil || rerr.Error() != derr.Error() {
					t.Fatalf("Decode error %v, Reader error %v", derr, rerr)
				}
				if n > 0 && errors.Is(derr, ErrNameLength) {
					buf = buf[n:]
					continue
				}
			}
			return
		}
		t.Fatal("no progress")
	})
}

// chunkReader returns its input n bytes at a time.
type chunkReader struct {
	p []byte
	n int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(c.p) == 0 {
		return 0, io.EOF
	}
	k := copy(b[:min(len(b), c.n)], c.p)
	c.p = c.p[k:]
	return k, nil
}
