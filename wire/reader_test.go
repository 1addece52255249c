package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func allSamples(t *testing.T) ([]Frame, []byte) {
	t.Helper()
	samples := sampleFrames()
	var buf []byte
	for i := range samples {
		buf = Append(buf, &samples[i])
	}
	return samples, buf
}

func TestReader(t *testing.T) {
	samples, stream := allSamples(t)
	readers := map[string]func() io.Reader{
		"whole":        func() io.Reader { return bytes.NewReader(stream) },
		"one byte":     func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":         func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"data and EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			r := NewReader(mk(), DefaultLimits())
			for i := range samples {
				f, err := r.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !equalFrames(f, &samples[i]) {
					t.Fatalf("frame %d: got %+v want %+v", i, *f, samples[i])
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the last frame: %v, want io.EOF", err)
			}
		})
	}
}

// TestReaderGrows: a frame bigger than the initial buffer makes it grow to fit, and no further.
func TestReaderGrows(t *testing.T) {
	lim := Limits{MaxFrame: 20 << 10, MaxNames: 4096}
	names := make([][]byte, 1200)
	for i := range names {
		names[i] = []byte("name-0123456")
	}
	big := AppendStatus(nil, 1, names)
	stream := append(AppendPing(nil, 2), big...)
	stream = AppendPong(stream, 3)
	r := NewReader(iotest.HalfReader(bytes.NewReader(stream)), lim)
	for _, want := range []Type{Ping, Status, Pong} {
		f, err := r.Next()
		if err != nil || f.Type != want {
			t.Fatalf("want %v: %v, %v", want, f, err)
		}
		if want == Status && len(f.Names) != len(names) {
			t.Fatalf("%d names", len(f.Names))
		}
	}
	if len(r.buf) > 4+lim.MaxFrame {
		t.Fatalf("buffer grew to %d, over MaxFrame+4", len(r.buf))
	}
}

func TestReaderErrors(t *testing.T) {
	ping := AppendPing(nil, 1)
	tests := []struct {
		name string
		in   io.Reader
		want error
	}{
		{"empty", bytes.NewReader(nil), io.EOF},
		{"cut in header", bytes.NewReader(ping[:3]), io.ErrUnexpectedEOF},
		{"cut in body", bytes.NewReader(ping[:10]), io.ErrUnexpectedEOF},
		{"oversize", bytes.NewReader([]byte{0, 0x10, 0, 0}), ErrFrameTooLarge},
		{"bad frame", bytes.NewReader(frameBytes(OK, []byte{1})), ErrBadFrame},
		{"read error", iotest.ErrReader(iotest.ErrTimeout), iotest.ErrTimeout},
		{"no progress", zeroReader{}, io.ErrNoProgress},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.in, DefaultLimits())
			for range 2 { // errors are sticky
				if _, err := r.Next(); !errors.Is(err, tt.want) {
					t.Fatalf("Next() = %v, want %v", err, tt.want)
				}
			}
		})
	}
}

// TestReaderSkipsBadName: a frame rejected only for its name is skipped; the stream goes on.
func TestReaderSkipsBadName(t *testing.T) {
	stream := AppendAcquire(nil, 1, nil, 0, 0)
	stream = AppendPing(stream, 2)
	r := NewReader(bytes.NewReader(stream), DefaultLimits())
	if f, err := r.Next(); !errors.Is(err, ErrNameLength) || f == nil || f.Req != 1 {
		t.Fatalf("first: %v, %v; want the frame's req 1 and ErrNameLength", f, err)
	}
	if f, err := r.Next(); err != nil || f.Type != Ping || f.Req != 2 {
		t.Fatalf("second: %v, %v", f, err)
	}
}

// zeroReader returns 0, nil forever: a broken io.Reader the Reader must not spin on.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }
