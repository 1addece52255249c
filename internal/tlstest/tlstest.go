// Package tlstest makes throwaway X.509 material for tests: a CA, a server certificate for
// 127.0.0.1/localhost and client certificates, all ECDSA P-256, valid for one hour, written as
// PEM files in a directory the caller owns (typically t.TempDir()).
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Files are the PEM files of one test PKI.
type Files struct {
	CA                    string // the CA certificate
	ServerCert, ServerKey string // for 127.0.0.1, ::1 and localhost
	ClientCert, ClientKey string // signed by the CA (for mTLS)
	OtherCA               string // an unrelated CA: nothing here chains to it
	StrangerCert          string // a client certificate signed by OtherCA
	StrangerKey           string
}

type issuer struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// Write creates a CA, a server and a client certificate, plus an unrelated CA with a client
// certificate of its own, in dir.
func Write(dir string) (Files, error) {
	f := Files{}
	ca, err := newCA("wwly test CA", dir, "ca.pem", &f.CA)
	if err != nil {
		return f, err
	}
	other, err := newCA("unrelated CA", dir, "other-ca.pem", &f.OtherCA)
	if err != nil {
		return f, err
	}
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "wwly server"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if f.ServerCert, f.ServerKey, err = leaf(ca, server, dir, "server"); err != nil {
		return f, err
	}
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "wwly client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if f.ClientCert, f.ClientKey, err = leaf(ca, client, dir, "client"); err != nil {
		return f, err
	}
	stranger := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "stranger"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	f.StrangerCert, f.StrangerKey, err = leaf(other, stranger, dir, "stranger")
	return f, err
}

var serial atomic.Int64

func template(t *x509.Certificate) *x509.Certificate {
	t.SerialNumber = big.NewInt(serial.Add(1))
	t.NotBefore = time.Now().Add(-time.Minute)
	t.NotAfter = time.Now().Add(time.Hour)
	return t
}

func newCA(name, dir, file string, path *string) (*issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tlstest: key: %w", err)
	}
	t := template(&x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	})
	der, err := x509.CreateCertificate(rand.Reader, t, t, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tlstest: CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tlstest: CA: %w", err)
	}
	*path = filepath.Join(dir, file)
	if err := writePEM(*path, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	return &issuer{cert: cert, key: key}, nil
}

func leaf(ca *issuer, t *x509.Certificate, dir, name string) (certPath, keyPath string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("tlstest: key: %w", err)
	}
	t = template(t)
	t.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, t, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", fmt.Errorf("tlstest: %s certificate: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("tlstest: %s key: %w", name, err)
	}
	certPath, keyPath = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
		return "", "", err
	}
	return certPath, keyPath, writePEM(keyPath, "PRIVATE KEY", keyDER)
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("tlstest: %w", err)
	}
	return nil
}
