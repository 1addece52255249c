package server

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// TestCertReload: a rotated pair is served after the check interval; a broken one is not.
func TestCertReload(t *testing.T) {
	first, second := testPKI(t), testPKI(t)
	dir := t.TempDir()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	install := func(cert, key string) {
		t.Helper()
		for src, dst := range map[string]string{cert: certFile, key: keyFile} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(first.ServerCert, first.ServerKey)
	r, err := newCertReloader(certFile, keyFile, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	leaf := func() []byte {
		t.Helper()
		c, err := r.get(nil)
		if err != nil || len(c.Certificate) == 0 {
			t.Fatalf("get: %v", err)
		}
		return c.Certificate[0]
	}
	before := leaf()

	install(second.ServerCert, second.ServerKey)
	future := time.Now().Add(time.Hour) // a new mtime even on a coarse-grained file system
	_ = os.Chtimes(certFile, future, future)
	if !bytes.Equal(leaf(), before) {
		t.Fatal("reloaded before the check interval")
	}
	r.mu.Lock()
	r.every = 0
	r.mu.Unlock()
	rotated := leaf()
	if bytes.Equal(rotated, before) {
		t.Fatal("rotated certificate not picked up")
	}

	// A certificate whose key has not been written yet: keep serving the last good pair.
	install(first.ServerCert, second.ServerKey)
	_ = os.Chtimes(keyFile, future.Add(time.Hour), future.Add(time.Hour))
	if !bytes.Equal(leaf(), rotated) {
		t.Fatal("a mismatched pair replaced the good one")
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(leaf(), rotated) {
		t.Fatal("a missing key file replaced the good pair")
	}
}
