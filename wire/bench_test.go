package wire

import (
	"bytes"
	"testing"
)

var benchName = []byte("bench/lock-0042")

// TestHotPathAllocs pins the zero-allocation promise of the hot frames; the benchmarks below
// show the same with -benchmem.
func TestHotPathAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	acq := AppendAcquire(nil, 1, benchName, -1, 0)
	gr := AppendGranted(nil, 1, 2)
	status := AppendStatus(nil, 1, [][]byte{benchName, benchName})
	var f Frame
	lim := DefaultLimits()
	Decode(status, lim, &f) // grow f.Names once
	for name, fn := range map[string]func(){
		"AppendAcquire": func() { buf = AppendAcquire(buf[:0], 1, benchName, -1, 0) },
		"AppendGranted": func() { buf = AppendGranted(buf[:0], 1, 2) },
		"AppendRelease": func() { buf = AppendRelease(buf[:0], 1, benchName, 2) },
		"DecodeAcquire": func() { Decode(acq, lim, &f) },
		"DecodeGranted": func() { Decode(gr, lim, &f) },
		"DecodeStatus":  func() { Decode(status, lim, &f) },
	} {
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocs per run, want 0", name, a)
		}
	}
}

func BenchmarkAppendAcquire(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = AppendAcquire(buf[:0], uint64(i), benchName, -1, 0)
	}
}

func BenchmarkAppendGranted(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		buf = AppendGranted(buf[:0], uint64(i), uint64(i))
	}
}

func BenchmarkDecodeAcquire(b *testing.B) {
	enc := AppendAcquire(nil, 1, benchName, -1, 0)
	lim := DefaultLimits()
	var f Frame
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc, lim, &f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGranted(b *testing.B) {
	enc := AppendGranted(nil, 1, 2)
	lim := DefaultLimits()
	var f Frame
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc, lim, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderNext measures the client path: many small frames through one Reader.
func BenchmarkReaderNext(b *testing.B) {
	var stream []byte
	for i := range 1000 {
		stream = AppendGranted(stream, uint64(i), uint64(i))
	}
	src := bytes.NewReader(stream)
	r := NewReader(src, DefaultLimits())
	b.SetBytes(int64(len(stream) / 1000))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%1000 == 0 {
			src.Reset(stream)
		}
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
