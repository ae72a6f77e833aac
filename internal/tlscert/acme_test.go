package tlscert

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/acme"
)

// Names no public CA can check are refused before anything is asked of the network.
func TestACMEDomainRefused(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"192.0.2.1", "pbx", "pbx.local", "pbx.lan", "bad_name.example.com", "-a.example.com", "a..example.com"} {
		_, err := New(t.Context(), Options{Dir: t.TempDir(), ACMEDomain: d, ACMEDirectory: "http://127.0.0.1:1/directory"})
		if err == nil || !strings.Contains(err.Error(), "ACME domain") || strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("%q: err %v, want the name refused", d, err)
		}
	}
	dir := t.TempDir()
	if _, err := New(t.Context(), Options{Dir: dir, ACMEDomain: "pbx.example.net", CertFile: filepath.Join(dir, "a"), KeyFile: filepath.Join(dir, "b")}); err == nil || !strings.Contains(err.Error(), "exclude") {
		t.Fatalf("files and ACME together: %v", err)
	}
}

// An ACME CA that cannot be reached stops the start with an error naming it and the
// domain, within the timeout: a closed port, and a server that accepts and never answers.
func TestACMEUnreachable(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().String()
	}()
	for _, dirURL := range []string{"http://" + closed + "/directory", "http://" + silent.Addr().String() + "/directory"} {
		start := time.Now()
		_, err := New(t.Context(), Options{Dir: t.TempDir(), ACMEDomain: "pbx.example.net", ACMEDirectory: dirURL, ACMETimeout: 300 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "cannot be reached") || !strings.Contains(err.Error(), dirURL) || !strings.Contains(err.Error(), "pbx.example.net") {
			t.Fatalf("%s: err %v", dirURL, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("%s: took %v despite a 300ms timeout", dirURL, took)
		}
	}
}

// With a certificate in ACME's cache, an unreachable CA is a warning: the cached
// certificate is served, also to a client that sends no server name; the listener offers
// the TLS-ALPN-01 protocol.
func TestACMECachedCertificateServed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := adminCA(t)
	if _, err := ca.issue([]string{"pbx.example.net"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	chain, _ := os.ReadFile(filepath.Join(ca.dir, serverCertFile))
	keyPEM, _ := os.ReadFile(filepath.Join(ca.dir, serverKeyFile))
	// autocert's cache entry: the EC key, then the chain.
	kb, _ := pem.Decode(keyPEM)
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey))
	entry := append(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), chain...)
	if err := os.MkdirAll(filepath.Join(dir, "acme"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "acme", "pbx.example.net"), entry, 0o600); err != nil {
		t.Fatal(err)
	}
	var log logBuf
	m := newManager(t, Options{Dir: dir, ACMEDomain: "pbx.example.net", ACMEDirectory: "http://127.0.0.1:1/directory",
		ACMETimeout: 300 * time.Millisecond, Log: log.logger()})
	if !strings.Contains(log.String(), "serving the cached ACME certificate") {
		t.Fatalf("no warning logged:\n%s", log.String())
	}
	if m.Source() != SourceACME || m.CAPEM() != nil || m.Fingerprint() != "" {
		t.Fatalf("source %s CA %q fingerprint %q", m.Source(), m.CAPEM(), m.Fingerprint())
	}
	cfg := m.ServerConfig(NextProtos("http/1.1"))
	if !slices.Contains(cfg.NextProtos, acme.ALPNProto) || cfg.NextProtos[0] != "http/1.1" {
		t.Fatalf("NextProtos %v", cfg.NextProtos)
	}
	addr := serveTLS(t, cfg)
	pool := poolOf(t, ca.pem)
	for _, sni := range []string{"pbx.example.net", ""} {
		// Verification against the name, whatever was sent as SNI.
		c := &tls.Config{RootCAs: pool, ServerName: sni, InsecureSkipVerify: sni == "", VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, DNSName: "pbx.example.net"})
			return err
		}}
		if _, _, err := dial(addr, c); err != nil {
			t.Fatalf("SNI %q: %v", sni, err)
		}
	}
}
