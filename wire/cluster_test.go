package wire

import (
	"bytes"
	"errors"
	"testing"
)

// TestWelcomeSecret: a replicated server's WELCOME carries the resume secret after the four
// fields every WELCOME has; a single-node WELCOME decodes with no secret; an empty or
// over-long secret is malformed.
func TestWelcomeSecret(t *testing.T) {
	secret := []byte("0123456789abcdef")
	enc := AppendWelcomeSecret(nil, 1, 43, 1e9, 5e9, secret)
	var f Frame
	n, err := Decode(enc, DefaultLimits(), &f)
	if err != nil || n != len(enc) || f.Session != 43 || !bytes.Equal(f.Secret, secret) {
		t.Fatalf("decode: n=%d err=%v frame=%+v", n, err, f)
	}
	if re := Append(nil, &f); !bytes.Equal(re, enc) {
		t.Fatalf("re-encode:\n got  %x\n want %x", re, enc)
	}
	plain := AppendWelcome(nil, 1, 43, 1e9, 5e9)
	f = Frame{}
	if _, err := Decode(plain, DefaultLimits(), &f); err != nil || f.Secret != nil {
		t.Fatalf("plain WELCOME: %v %q", err, f.Secret)
	}
	for _, bad := range [][]byte{append(plain[:len(plain):len(plain)], 0, 0), AppendWelcomeSecret(nil, 1, 43, 1e9, 5e9, make([]byte, MaxSecret+1))} {
		bad = append([]byte(nil), bad...)
		if len(bad) > 4 {
			be.PutUint32(bad, uint32(len(bad)-4))
		}
		if _, err := Decode(bad, DefaultLimits(), &f); !errors.Is(err, ErrBadFrame) {
			t.Errorf("Decode(%x) = %v, want ErrBadFrame", bad, err)
		}
	}
}

// FuzzClusterFrames: the replicated-mode frames decode without panics and re-encode to the
// bytes they came from.
func FuzzClusterFrames(f *testing.F) {
	f.Add(AppendWelcomeSecret(nil, 1, 43, 1e9, 5e9, []byte("s")))
	f.Add(AppendRedirect(nil, 1, []byte("127.0.0.1:1977")))
	f.Add(AppendRedirect(nil, 0, nil))
	f.Add(AppendResume(nil, 2, []byte("tok"), []byte("me"), 43, []byte("secret")))
	f.Add(frameBytes(Resume, u16(0xffff)))
	f.Fuzz(func(t *testing.T, in []byte) {
		var fr Frame
		n, err := Decode(in, DefaultLimits(), &fr)
		if err != nil || n == 0 {
			return
		}
		if re := Append(nil, &fr); !bytes.Equal(re, in[:n]) {
			t.Fatalf("re-encode of %v:\n got  %x\n want %x", fr.Type, re, in[:n])
		}
	})
}
