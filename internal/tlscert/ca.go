package tlscert

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/atomicfile"
)

// Lifetimes of what the private CA makes. A server certificate lives at most 398 days
// (the CA/Browser Forum's ceiling, which Apple's and Google's clients enforce even for
// private roots); it is renewed once less than a third of its life is left.
const (
	caLifetime     = 10 * 365 * 24 * time.Hour
	serverLifetime = 397 * 24 * time.Hour
	// backdate covers phones whose clock is a little behind ours.
	backdate = time.Hour
)

// File names under the private CA's directory.
const (
	caCertFile     = "ca.pem"
	caKeyFile      = "ca.key"
	serverCertFile = "server.pem"
	serverKeyFile  = "server.key"
)

// privateCA is the appliance's own certificate authority: its certificate and key, read
// from dir or created there on the first start.
type privateCA struct {
	dir  string
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

// loadOrCreateCA reads dir's CA, or creates one when neither of its files exists yet.
// One file without the other is an error: the admin must decide, not this code.
func loadOrCreateCA(dir, name string, now time.Time) (ca *privateCA, created bool, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	certPath, keyPath := filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile)
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		ca, err := createCA(dir, name, now)
		return ca, err == nil, err
	case certErr != nil:
		return nil, false, fmt.Errorf("%s: %w (its key %s is there: restore the certificate, or remove both to make a new CA)", certPath, certErr, caKeyFile)
	case keyErr != nil:
		return nil, false, fmt.Errorf("%s: %w (its certificate %s is there: restore the key, or remove both to make a new CA)", keyPath, keyErr, caCertFile)
	}
	pair, leaf, err := readPair(certPath, keyPath)
	if err != nil {
		return nil, false, err
	}
	if !leaf.IsCA {
		return nil, false, fmt.Errorf("%s: not a CA certificate", certPath)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, false, fmt.Errorf("%s: key cannot sign", keyPath)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	return &privateCA{dir: dir, cert: leaf, key: signer, pem: pemBytes}, false, nil
}

func createCA(dir, name string, now time.Time) (*privateCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Dialtone"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true, // it signs server certificates only, never another CA
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	// The key first: a crash between the two writes leaves a key without a certificate,
	// which the next start reports instead of silently making another CA.
	if err := writeKey(filepath.Join(dir, caKeyFile), key); err != nil {
		return nil, err
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := atomicfile.WriteBytes(filepath.Join(dir, caCertFile), 0o644, pemBytes); err != nil {
		return nil, err
	}
	return &privateCA{dir: dir, cert: cert, key: key, pem: pemBytes}, nil
}

// issue makes a new server certificate for hosts, signed by the CA, and writes it and
// its key under the CA's directory.
func (ca *privateCA) issue(hosts []string, now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(serverLifetime)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"Dialtone"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SubjectKeyId: keyID(&key.PublicKey),
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, err
	}
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	chain = append(chain, ca.pem...)
	if err := writeKey(filepath.Join(ca.dir, serverKeyFile), key); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteBytes(filepath.Join(ca.dir, serverCertFile), 0o644, chain); err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// loadServer reads the server certificate written by issue. It returns nil (and no
// error) when there is none yet or when it is not one to keep: not signed by this CA,
// not covering every host, or due for renewal at now.
func (ca *privateCA) loadServer(hosts []string, now time.Time) (*tls.Certificate, string) {
	pair, leaf, err := readPair(filepath.Join(ca.dir, serverCertFile), filepath.Join(ca.dir, serverKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "none yet"
	}
	if err != nil {
		return nil, err.Error()
	}
	if err := leaf.CheckSignatureFrom(ca.cert); err != nil {
		return nil, "not signed by the CA"
	}
	if missing := uncovered(leaf, hosts); len(missing) > 0 {
		return nil, "does not name " + strings.Join(missing, ", ")
	}
	if dueForRenewal(leaf, now) {
		return nil, "due for renewal (expires " + leaf.NotAfter.UTC().Format(time.RFC3339) + ")"
	}
	return pair, ""
}

// dueForRenewal is true once less than a third of the certificate's life is left.
func dueForRenewal(leaf *x509.Certificate, now time.Time) bool {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return leaf.NotAfter.Sub(now) < life/3
}

// uncovered lists the hosts the certificate does not name.
func uncovered(leaf *x509.Certificate, hosts []string) []string {
	var missing []string
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
				missing = append(missing, h)
			}
		} else if !slices.Contains(leaf.DNSNames, h) {
			missing = append(missing, h)
		}
	}
	return missing
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// keyID is the subject key identifier of RFC 5280 section 4.2.1.2, method 1 but with
// SHA-256 (RFC 7093 section 2, method 1: its leftmost 160 bits).
func keyID(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return sum[:20]
}

// Fingerprint formats the SHA-256 of a certificate's DER bytes as openssl x509
// -fingerprint -sha256 prints it: upper-case hex pairs joined by colons.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b bytes.Buffer
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}
