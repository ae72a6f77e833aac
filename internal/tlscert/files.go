package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// maxPEMFile bounds what is read from a certificate or key file: a chain of a few
// certificates is a few KiB.
const maxPEMFile = 1 << 20

// readPair reads a PEM certificate chain and its key, checking that they belong together.
// The error names the file at fault.
func readPair(certPath, keyPath string) (*tls.Certificate, *x509.Certificate, error) {
	certPEM, err := readBounded(certPath)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := readBounded(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if !hasBlock(certPEM, "CERTIFICATE") {
		return nil, nil, fmt.Errorf("%s: no PEM CERTIFICATE block", certPath)
	}
	if !hasKeyBlock(keyPEM) {
		return nil, nil, fmt.Errorf("%s: no PEM private key block", keyPath)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("%s with %s: %w", certPath, keyPath, err)
	}
	// X509KeyPair fills Leaf since Go 1.23; parse it when an older rule applies.
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", certPath, err)
		}
		pair.Leaf = leaf
	}
	return &pair, leaf, nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxPEMFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxPEMFile)
	}
	return b, nil
}

func hasBlock(data []byte, typ string) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == typ {
			return true
		}
	}
}

func hasKeyBlock(data []byte) bool {
	return hasBlock(data, "PRIVATE KEY") || hasBlock(data, "EC PRIVATE KEY") || hasBlock(data, "RSA PRIVATE KEY")
}

// loadFiles reads the admin's --tls-cert and --tls-key and checks the certificate is in
// its validity period at now. Its trust anchor (what CAPEM hands out) is the last
// certificate of the chain: the admin's CA when the file carries it, else the
// certificate itself, which a phone can trust as it is.
func loadFiles(certPath, keyPath string, now time.Time) (*state, error) {
	pair, leaf, err := readPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%s: expired on %s", certPath, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("%s: not valid before %s", certPath, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if !leafServesTLS(leaf) {
		return nil, errors.New(certPath + ": not a TLS server certificate (extended key usage lacks serverAuth)")
	}
	anchor := pair.Certificate[len(pair.Certificate)-1]
	return &state{
		cert:   pair,
		caPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: anchor}),
		caFP:   fingerprint(anchor),
		source: "files",
	}, nil
}

func leafServesTLS(leaf *x509.Certificate) bool {
	if len(leaf.ExtKeyUsage) == 0 {
		return true // no restriction (RFC 5280 section 4.2.1.12)
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// fileStamp is what the poll compares to tell a file changed: its identity, size and
// modification time.
type fileStamp struct {
	info os.FileInfo
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{info: fi}
}

func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}
