package wire

import (
	"errors"
	"fmt"
	"io"
)

// minReadBuf is the Reader's starting buffer: room for many small frames per read syscall.
const minReadBuf = 4 << 10

// Reader decodes a stream of frames from an io.Reader, for clients and tests (the server
// decodes straight from its event loop's buffers with Decode).
//
// Its buffer starts at 4 KiB and grows only to hold one whole frame, so it never exceeds
// Limits.MaxFrame+4 bytes. A Reader is not safe for concurrent use.
type Reader struct {
	r     io.Reader
	lim   Limits
	buf   []byte // buf[start:end] holds bytes read but not yet decoded
	start int
	end   int
	frame Frame
	err   error // sticky: once the stream is broken, every Next returns it
}

// NewReader returns a Reader over r accepting frames within lim (zero fields mean defaults).
func NewReader(r io.Reader, lim Limits) *Reader {
	return &Reader{r: r, lim: lim.withDefaults(), buf: make([]byte, minReadBuf)}
}

// Next returns the next frame. The frame and the slices inside it are valid only until the
// next call to Next: copy what must outlive it. Several frames that arrived in one read are
// returned without further reads.
//
// Errors: io.EOF at a clean end of stream (between frames), io.ErrUnexpectedEOF when the stream
// ends inside a frame, the decode error (wrapping ErrFrameTooLarge, ErrBadFrame, ...), or the
// underlying reader's error. Every error is sticky: the stream cannot be resynchronised, except
// after a frame rejected with ErrNameLength, which is skipped so the next call goes on; that
// error comes with the frame, of which only Type and Req are meaningful (to fail that request).
func (r *Reader) Next() (*Frame, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		n, err := Decode(r.buf[r.start:r.end], r.lim, &r.frame)
		if err != nil {
			if n > 0 && errors.Is(err, ErrNameLength) {
				r.start += n
				return &r.frame, err
			}
			r.err = err
			return nil, err
		}
		if n > 0 {
			r.start += n
			return &r.frame, nil
		}
		if err := r.fill(); err != nil {
			r.err = err
			return nil, err
		}
	}
}

// fill reads at least one more byte, first making room: unread bytes move to the front, and
// the buffer grows only when a single partial frame needs more space than it has.
func (r *Reader) fill() error {
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
	if r.end == len(r.buf) {
		// A full buffer without a frame: the length header is known (Decode would have
		// returned otherwise), and it is within MaxFrame, so grow to fit exactly that frame.
		need := 4 + int(be.Uint32(r.buf))
		if need <= len(r.buf) {
			return fmt.Errorf("%w: reader buffer full without a frame", ErrBadFrame) // unreachable
		}
		size := max(need, 2*len(r.buf))
		size = min(size, 4+r.lim.MaxFrame)
		nb := make([]byte, size)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	// Bounded retries: an io.Reader may legally return 0, nil; too many in a row is a bug.
	for range 100 {
		n, err := r.r.Read(r.buf[r.end:])
		r.end += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF && r.end > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}
