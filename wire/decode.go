package wire

import (
	"encoding/binary"
	"fmt"
	"slices"
)

var be = binary.BigEndian

// Fixed body sizes: the bytes of a body before (or without) its variable-length part.
const (
	helloFixed       = 2 + 2 + 2     // version, auth length, client name length
	welcomeBody      = 2 + 8 + 8 + 8 // version, session, heartbeat, timeout
	acquireFixed     = 8 + 8 + 2     // wait, ttl, name length
	grantedBody      = 8             // token
	releaseFixed     = 8 + 2         // token, name length
	cancelBody       = 8             // target
	renewFixed       = 8 + 8 + 2     // token, ttl, name length
	lostFixed        = 8 + 8 + 2 + 2 // target, token, code, name length
	errorFixed       = 2 + 2         // code, message length
	countSize        = 2             // u16 entry count of STATUS and STATUS_REPLY
	lockInfoFixed    = 8 + 8 + 4 + 8 + 8 + 1 + 4 + 8 + 2
	sessionInfoFixed = 8 + 4 + 2 + 2 // session, locks, client length, remote length
	minFrameLength   = 1 + 8         // type + req: the smallest legal length field
)

// withDefaults fills zero fields with the defaults, so a zero Limits value is usable.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFrame <= 0 {
		l.MaxFrame = d.MaxFrame
	}
	if l.MaxName <= 0 {
		l.MaxName = d.MaxName
	}
	if l.MaxNames <= 0 {
		l.MaxNames = d.MaxNames
	}
	return l
}

// Decode decodes the frame at the start of buf.
//
//   - n == 0, err == nil: buf holds no complete frame yet; call again with more bytes.
//   - n > 0, err == nil: the first n bytes were one frame, now in *f.
//   - err != nil: the stream is broken or the frame is invalid. If the frame was fully delimited,
//     n is its size and f.Type and f.Req are set, so a server may answer ErrNameLength with an
//     ERROR for that request and go on with buf[n:]; every other error should end the connection
//     (docs/protocol.md says which code to send). n == 0 when the header itself was bad.
//
// The length field is checked as soon as its 4 bytes are present, so an oversized frame is
// rejected before its body arrives. A zero field of lim means its default (DefaultLimits).
//
// Decode is pure and safe for concurrent use on distinct Frames. Byte slices in *f alias buf
// (capped so appending to them cannot overwrite buf): copy them out before reusing buf. The
// capacity of f.Names and f.Locks is reused, so decoding into one Frame allocates nothing once
// those slices have grown; every other field of *f is reset.
func Decode(buf []byte, lim Limits, f *Frame) (n int, err error) {
	if len(buf) < 4 {
		return 0, nil
	}
	length := be.Uint32(buf)
	lim = lim.withDefaults()
	if uint64(length) > uint64(lim.MaxFrame) {
		return 0, fmt.Errorf("%w: length %d over limit %d", ErrFrameTooLarge, length, lim.MaxFrame)
	}
	if length < minFrameLength {
		return 0, fmt.Errorf("%w: length %d under minimum %d", ErrBadFrame, length, minFrameLength)
	}
	n = 4 + int(length)
	if len(buf) < n {
		return 0, nil
	}
	names, locks, ids, sessions := f.Names[:0], f.Locks[:0], f.IDs[:0], f.Sessions[:0]
	*f = Frame{Type: Type(buf[4]), Req: be.Uint64(buf[5:]), Names: names, Locks: locks, IDs: ids, Sessions: sessions}
	if err := decodeBody(buf[HeaderSize:n], lim, f); err != nil {
		return n, err
	}
	return n, nil
}

// cursor reads a body front to back; running past the end sets short and yields zeros, so a
// body decoder reads all its fields and checks once at the end.
type cursor struct {
	p     []byte
	short bool
}

func (c *cursor) u8() uint8 {
	if len(c.p) < 1 {
		c.short, c.p = true, nil
		return 0
	}
	v := c.p[0]
	c.p = c.p[1:]
	return v
}

func (c *cursor) u16() uint16 {
	if len(c.p) < 2 {
		c.short, c.p = true, nil
		return 0
	}
	v := be.Uint16(c.p)
	c.p = c.p[2:]
	return v
}

func (c *cursor) u32() uint32 {
	if len(c.p) < 4 {
		c.short, c.p = true, nil
		return 0
	}
	v := be.Uint32(c.p)
	c.p = c.p[4:]
	return v
}

func (c *cursor) u64() uint64 {
	if len(c.p) < 8 {
		c.short, c.p = true, nil
		return 0
	}
	v := be.Uint64(c.p)
	c.p = c.p[8:]
	return v
}

// bytes reads a u16 length and that many bytes. An empty field decodes as nil so that decoded
// frames compare equal to frames built with nil fields.
func (c *cursor) bytes() []byte {
	n := int(c.u16())
	if len(c.p) < n {
		c.short, c.p = true, nil
		return nil
	}
	if n == 0 {
		return nil
	}
	v := c.p[:n:n]
	c.p = c.p[n:]
	return v
}

// end reports a truncated body or bytes left over inside the frame's length.
func (c *cursor) end(t Type) error {
	if c.short {
		return fmt.Errorf("%w: truncated %v body", ErrBadFrame, t)
	}
	if len(c.p) != 0 {
		return fmt.Errorf("%w: %d trailing bytes in %v body", ErrBadFrame, len(c.p), t)
	}
	return nil
}

func checkName(t Type, name []byte, lim Limits) error {
	if len(name) == 0 || len(name) > lim.MaxName {
		return fmt.Errorf("%w: %v name of %d bytes (want 1..%d)", ErrNameLength, t, len(name), lim.MaxName)
	}
	return nil
}

// checkDuration rejects a negative duration where the protocol gives it no meaning.
func checkDuration(t Type, field string, d int64) error {
	if d < 0 {
		return fmt.Errorf("%w: %v %s %d is negative", ErrBadFrame, t, field, d)
	}
	return nil
}

func decodeBody(p []byte, lim Limits, f *Frame) error {
	c := cursor{p: p}
	t := f.Type
	switch t {
	case Hello:
		f.Version = c.u16()
		f.Auth = c.bytes()
		f.ClientName = c.bytes()
		return c.end(t)
	case Welcome:
		f.Version = c.u16()
		f.Session = c.u64()
		f.Heartbeat = int64(c.u64())
		f.Timeout = int64(c.u64())
		if err := decodeWelcomeSecret(&c, f); err != nil {
			return err
		}
		if err := checkDuration(t, "heartbeat", f.Heartbeat); err != nil {
			return err
		}
		return checkDuration(t, "timeout", f.Timeout)
	case Acquire:
		f.Wait = int64(c.u64())
		f.TTL = int64(c.u64())
		f.Name = c.bytes()
		if err := c.end(t); err != nil {
			return err
		}
		return checkName(t, f.Name, lim)
	case Granted:
		f.Token = c.u64()
		return c.end(t)
	case Release:
		f.Token = c.u64()
		f.Name = c.bytes()
		if err := c.end(t); err != nil {
			return err
		}
		return checkName(t, f.Name, lim)
	case OK, Ping, Pong:
		return c.end(t)
	case Cancel:
		f.Target = c.u64()
		return c.end(t)
	case Renew:
		f.Token = c.u64()
		f.TTL = int64(c.u64())
		f.Name = c.bytes()
		if err := c.end(t); err != nil {
			return err
		}
		return checkName(t, f.Name, lim)
	case Lost:
		f.Target = c.u64()
		f.Token = c.u64()
		f.Code = Code(c.u16())
		f.Name = c.bytes()
		if err := c.end(t); err != nil {
			return err
		}
		return checkName(t, f.Name, lim)
	case Error:
		f.Code = Code(c.u16())
		f.Msg = c.bytes()
		return c.end(t)
	case Status:
		return decodeStatus(&c, lim, f)
	case StatusReply:
		return decodeStatusReply(&c, lim, f)
	case Op:
		return decodeOp(&c, lim, f)
	case Sessions:
		return decodeSessions(&c, lim, f)
	case SessionsReply:
		return decodeSessionsReply(&c, f)
	case Redirect:
		f.Addr = c.bytes()
		if err := c.end(t); err != nil {
			return err
		}
		return checkAddr(f.Addr)
	case Resume:
		return decodeResume(&c, f)
	case Cluster:
		f.Auth = c.bytes()
		return c.end(t)
	case ClusterReply:
		return decodeClusterReply(&c, f)
	case Acquired:
		f.Token = c.u64()
		f.Value = int64(c.u64())
		f.Code = Code(c.u16())
		return c.end(t)
	}
	return fmt.Errorf("%w: 0x%02x", ErrUnknownType, uint8(t))
}

func decodeStatus(c *cursor, lim Limits, f *Frame) error {
	count := int(c.u16())
	if count > lim.MaxNames {
		return fmt.Errorf("%w: STATUS of %d names over limit %d", ErrBadFrame, count, lim.MaxNames)
	}
	// Every name costs at least its length field: reject a lying count before growing Names.
	if count*2 > len(c.p) {
		return fmt.Errorf("%w: STATUS count %d needs more than %d bytes", ErrBadFrame, count, len(c.p))
	}
	f.Names = slices.Grow(f.Names[:0], count)
	for range count {
		f.Names = append(f.Names, c.bytes())
	}
	if err := c.end(Status); err != nil {
		return err
	}
	for _, name := range f.Names {
		if err := checkName(Status, name, lim); err != nil {
			return err
		}
	}
	return nil
}

func decodeStatusReply(c *cursor, lim Limits, f *Frame) error {
	count := int(c.u16())
	if count*lockInfoFixed > len(c.p) {
		return fmt.Errorf("%w: STATUS_REPLY count %d needs more than %d bytes", ErrBadFrame, count, len(c.p))
	}
	f.Locks = slices.Grow(f.Locks[:0], count)
	for range count {
		li := LockInfo{
			Holder:     c.u64(),
			Token:      c.u64(),
			Waiters:    c.u32(),
			OldestWait: int64(c.u64()),
			LeaseLeft:  int64(c.u64()),
			Kind:       Prim(c.u8()),
			Holders:    c.u32(),
			Value:      int64(c.u64()),
			Name:       c.bytes(),
		}
		f.Locks = append(f.Locks, li)
	}
	if err := c.end(StatusReply); err != nil {
		return err
	}
	for i := range f.Locks {
		li := &f.Locks[i]
		if err := checkName(StatusReply, li.Name, lim); err != nil {
			return err
		}
	}
	return nil
}

func decodeSessions(c *cursor, lim Limits, f *Frame) error {
	count := int(c.u16())
	if count > lim.MaxNames {
		return fmt.Errorf("%w: SESSIONS of %d ids over limit %d", ErrBadFrame, count, lim.MaxNames)
	}
	if count*8 > len(c.p) {
		return fmt.Errorf("%w: SESSIONS count %d needs more than %d bytes", ErrBadFrame, count, len(c.p))
	}
	f.IDs = slices.Grow(f.IDs[:0], count)
	for range count {
		f.IDs = append(f.IDs, c.u64())
	}
	return c.end(Sessions)
}

func decodeSessionsReply(c *cursor, f *Frame) error {
	count := int(c.u16())
	if count*sessionInfoFixed > len(c.p) {
		return fmt.Errorf("%w: SESSIONS_REPLY count %d needs more than %d bytes", ErrBadFrame, count, len(c.p))
	}
	f.Sessions = slices.Grow(f.Sessions[:0], count)
	for range count {
		f.Sessions = append(f.Sessions, SessionInfo{Session: c.u64(), Locks: c.u32(), Client: c.bytes(), Remote: c.bytes()})
	}
	return c.end(SessionsReply)
}
