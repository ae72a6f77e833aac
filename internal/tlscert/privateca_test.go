package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The first start creates the CA and a server certificate, keys readable by the owner
// only; the second start reuses both (same fingerprint, same serial).
func TestFirstStartCreatesSecondReuses(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	var log logBuf
	m1 := newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net", Log: log.logger()})
	fp := m1.Fingerprint()
	if len(fp) != 32*3-1 || m1.Source() != SourcePrivateCA {
		t.Fatalf("fingerprint %q source %q", fp, m1.Source())
	}
	if !strings.Contains(log.String(), "ca_sha256="+fp) {
		t.Fatalf("the start did not log the CA fingerprint:\n%s", log.String())
	}
	ca, err := x509.ParseCertificate(m1.Certificate().Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	if ca.Subject.CommonName != "Dialtone CA pbx.example.net" || !ca.IsCA {
		t.Fatalf("CA subject %q IsCA %v", ca.Subject.CommonName, ca.IsCA)
	}
	if life := ca.NotAfter.Sub(ca.NotBefore); life < 9*365*24*time.Hour {
		t.Fatalf("CA lifetime %v, want 10 years", life)
	}
	leaf := m1.Certificate().Leaf
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 398*24*time.Hour {
		t.Fatalf("server certificate lifetime %v exceeds 398 days", life)
	}
	for name, want := range map[string]os.FileMode{caKeyFile: 0o600, serverKeyFile: 0o600, caCertFile: 0o644, serverCertFile: 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), want)
		}
	}
	m2 := newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net"})
	if m2.Fingerprint() != fp {
		t.Fatalf("second start fingerprint %s, first %s", m2.Fingerprint(), fp)
	}
	if m2.Certificate().Leaf.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Fatal("second start issued a new server certificate instead of reusing the first")
	}
	if string(m2.CAPEM()) != string(m1.CAPEM()) {
		t.Fatal("CA PEM differs between starts")
	}
}

// The server certificate verifies against the CA alone, through a real handshake, for
// the public host, a listening address and the loopback names; any other name fails.
func TestServerCertVerifiesAgainstCA(t *testing.T) {
	t.Parallel()
	m := newManager(t, Options{Dir: t.TempDir(), PublicHost: "pbx.example.net", Hosts: []string{"192.0.2.10", "0.0.0.0"}})
	addr := serveTLS(t, m.ServerConfig())
	pool := poolOf(t, m.CAPEM())
	for _, name := range []string{"", "pbx.example.net", "localhost"} {
		st, line, err := dial(addr, &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Fatalf("ServerName %q: %v", name, err)
		}
		if line != "peer-certs=0" {
			t.Fatalf("answer %q", line)
		}
		if st.Version != tls.VersionTLS13 || st.CurveID != tls.X25519 {
			t.Fatalf("negotiated %s with %v, want TLS 1.3 with X25519", tls.VersionName(st.Version), st.CurveID)
		}
	}
	leaf := m.Certificate().Leaf
	if len(uncovered(leaf, []string{"192.0.2.10", "::1", "127.0.0.1"})) != 0 {
		t.Fatalf("server certificate names %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if _, _, err := dial(addr, &tls.Config{RootCAs: pool, ServerName: "other.example.net"}); err == nil {
		t.Fatal("a name the certificate does not carry was accepted")
	}
	if _, _, err := dial(addr, &tls.Config{ServerName: "pbx.example.net"}); err == nil {
		t.Fatal("verified without the private CA in the pool")
	}
}

// TLS 1.2 clients get an ECDHE AEAD suite; older versions and CBC-only clients are
// refused.
func TestServerConfigSuites(t *testing.T) {
	t.Parallel()
	m := newManager(t, Options{Dir: t.TempDir(), PublicHost: "127.0.0.1"})
	addr := serveTLS(t, m.ServerConfig())
	pool := poolOf(t, m.CAPEM())
	st, _, err := dial(addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	if st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Fatalf("TLS 1.2 suite %s", tls.CipherSuiteName(st.CipherSuite))
	}
	if _, _, err := dial(addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10}); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
	if _, _, err := dial(addr, &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12, CipherSuites: cbc}); err == nil {
		t.Fatal("a CBC-only TLS 1.2 client was accepted")
	}
}

// RequestClientCert asks for a device certificate but lets a client without one in.
func TestRequestClientCert(t *testing.T) {
	t.Parallel()
	m := newManager(t, Options{Dir: t.TempDir(), PublicHost: "127.0.0.1"})
	addr := serveTLS(t, m.ServerConfig(RequestClientCert()))
	pool := poolOf(t, m.CAPEM())
	if _, line, err := dial(addr, &tls.Config{RootCAs: pool}); err != nil || line != "peer-certs=0" {
		t.Fatalf("without a certificate: %q %v", line, err)
	}
	// Any certificate will do as the phone's: this one is another private CA's server pair.
	other := newManager(t, Options{Dir: t.TempDir(), PublicHost: "phone.example.net"})
	if _, line, err := dial(addr, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{*other.Certificate()}}); err != nil || line != "peer-certs=2" {
		t.Fatalf("with a certificate: %q %v", line, err)
	}
	// Without the option no certificate is asked for, so none arrives.
	plain := serveTLS(t, m.ServerConfig())
	if _, line, err := dial(plain, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{*other.Certificate()}}); err != nil || line != "peer-certs=0" {
		t.Fatalf("without the option: %q %v", line, err)
	}
}

// Renewal: not while two thirds of the life are left; once less is left, Run issues a
// new certificate, seen by the next handshake, from the same CA; a later start keeps it.
func TestRenewalNearExpiry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clk := newClock(time.Now())
	m := newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net", Now: clk.Now, RenewInterval: 5 * time.Millisecond})
	fp := m.Fingerprint()
	addr := serveTLS(t, m.ServerConfig())
	first := servedLeaf(t, addr)

	clk.Add(200 * 24 * time.Hour) // 197 days left of 397
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if servedLeaf(t, addr).SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatal("renewed with 197 of 397 days left")
	}

	clk.Add(100 * 24 * time.Hour) // 97 days left
	run(t, m)
	waitFor(t, "the renewed certificate", func() bool {
		return servedLeaf(t, addr).SerialNumber.Cmp(first.SerialNumber) != 0
	})
	renewed := servedLeaf(t, addr)
	if !renewed.NotAfter.After(first.NotAfter.Add(250 * 24 * time.Hour)) {
		t.Fatalf("renewed certificate expires %v, first %v", renewed.NotAfter, first.NotAfter)
	}
	pool := poolOf(t, m.CAPEM())
	if _, _, err := dial(addr, &tls.Config{RootCAs: pool, ServerName: "pbx.example.net", Time: clk.Now}); err != nil {
		t.Fatalf("renewed certificate does not verify at the new time: %v", err)
	}
	if m.Fingerprint() != fp {
		t.Fatal("renewal changed the CA")
	}
	if st, err := os.Stat(filepath.Join(dir, serverKeyFile)); err != nil {
		t.Fatal(err)
	} else if st.Mode().Perm() != 0o600 {
		t.Fatalf("renewed key mode %v, want 0600", st.Mode().Perm())
	}
	again := newManager(t, Options{Dir: dir, PublicHost: "PBX.example.net.", Now: clk.Now})
	if again.Certificate().Leaf.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
		t.Fatal("a start after renewal did not keep the renewed certificate")
	}
}

// A start with another public host issues a certificate naming it, from the same CA.
func TestNewHostReissues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m1 := newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net"})
	m2 := newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net", Hosts: []string{"192.0.2.77"}})
	if m2.Fingerprint() != m1.Fingerprint() {
		t.Fatal("a new host made a new CA")
	}
	if len(uncovered(m2.Certificate().Leaf, []string{"pbx.example.net", "192.0.2.77"})) != 0 {
		t.Fatalf("names %v %v", m2.Certificate().Leaf.DNSNames, m2.Certificate().Leaf.IPAddresses)
	}
}

// A CA key without its certificate (or the reverse) stops the start instead of making a
// new CA behind the admin's back.
func TestHalfCAIsAnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net"})
	if err := os.Remove(filepath.Join(dir, caCertFile)); err != nil {
		t.Fatal(err)
	}
	_, err := New(t.Context(), Options{Dir: dir, PublicHost: "pbx.example.net"})
	if err == nil || !strings.Contains(err.Error(), caCertFile) {
		t.Fatalf("err %v, want one naming %s", err, caCertFile)
	}
	if _, err := os.Stat(filepath.Join(dir, caCertFile)); err == nil {
		t.Fatal("a new CA certificate was written")
	}
}
