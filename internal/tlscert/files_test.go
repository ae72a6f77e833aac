package tlscert

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"os/signal"

	"github.com/dialtone/dialtone/internal/atomicfile"
)

// adminCA stands for the admin's own CA: it issues the pairs written as --tls-cert and
// --tls-key.
func adminCA(t *testing.T) *privateCA {
	t.Helper()
	ca, err := createCA(t.TempDir(), "Office CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// pair issues a certificate for host and returns its PEM chain and key.
func pair(t *testing.T, ca *privateCA, host string) (certPEM, keyPEM []byte) {
	t.Helper()
	if _, err := ca.issue([]string{host}, time.Now()); err != nil {
		t.Fatal(err)
	}
	certPEM, _ = os.ReadFile(filepath.Join(ca.dir, serverCertFile))
	keyPEM, _ = os.ReadFile(filepath.Join(ca.dir, serverKeyFile))
	return certPEM, keyPEM
}

type adminFiles struct{ cert, key string }

func writeFiles(t *testing.T, f adminFiles, certPEM, keyPEM []byte) {
	t.Helper()
	if err := atomicfile.WriteBytes(f.key, 0o600, keyPEM); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteBytes(f.cert, 0o644, certPEM); err != nil {
		t.Fatal(err)
	}
}

func startFiles(t *testing.T, poll time.Duration) (*Manager, adminFiles, *privateCA, *logBuf, string) {
	t.Helper()
	dir := t.TempDir()
	f := adminFiles{filepath.Join(dir, "pbx.crt"), filepath.Join(dir, "pbx.key")}
	ca := adminCA(t)
	c, k := pair(t, ca, "pbx.example.net")
	writeFiles(t, f, c, k)
	log := &logBuf{}
	m := newManager(t, Options{CertFile: f.cert, KeyFile: f.key, PollInterval: poll, Log: log.logger()})
	return m, f, ca, log, serveTLS(t, m.ServerConfig())
}

// The admin's files are served; a changed file is picked up by the poll and seen by the
// next handshake; a broken replacement is refused with a log line and the previous
// certificate stays.
func TestFilesReloadOnChange(t *testing.T) {
	t.Parallel()
	m, f, ca, log, addr := startFiles(t, 10*time.Millisecond)
	if m.Source() != SourceFiles || m.Fingerprint() != fingerprint(ca.cert.Raw) {
		t.Fatalf("source %s fingerprint %s, want the admin CA's", m.Source(), m.Fingerprint())
	}
	pool := poolOf(t, ca.pem)
	if _, _, err := dial(addr, &tls.Config{RootCAs: pool, ServerName: "pbx.example.net"}); err != nil {
		t.Fatal(err)
	}
	run(t, m)

	c2, k2 := pair(t, ca, "voice.example.net")
	writeFiles(t, f, c2, k2)
	waitFor(t, "the new certificate", func() bool {
		return servedLeaf(t, addr).Subject.CommonName == "voice.example.net"
	})
	if _, _, err := dial(addr, &tls.Config{RootCAs: pool, ServerName: "voice.example.net"}); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []struct {
		name       string
		cert, key  []byte
		wantLogged string
	}{
		{"garbage certificate", []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), k2, "no PEM CERTIFICATE block"},
		{"key of another certificate", c2, func() []byte { _, k := pair(t, ca, "x.example.net"); return k }(), "private key does not match public key"},
		{"empty key", c2, nil, "no PEM private key block"},
	} {
		before := strings.Count(log.String(), bad.wantLogged)
		writeFiles(t, f, bad.cert, bad.key)
		waitFor(t, "the refusal of "+bad.name, func() bool { return strings.Count(log.String(), bad.wantLogged) > before })
		if cn := servedLeaf(t, addr).Subject.CommonName; cn != "voice.example.net" {
			t.Fatalf("%s: serving %q, want the previous certificate", bad.name, cn)
		}
	}
	if strings.Contains(log.String(), "BEGIN") {
		t.Fatal("file content in the log")
	}
}

var keepHUP sync.Once

// SIGHUP reloads the files at once, whatever the poll interval.
func TestFilesReloadOnSIGHUP(t *testing.T) {
	// The test's own registration, kept for the life of the test process, keeps a
	// SIGHUP delivered before Run registers or after it stopped from ending the process.
	keepHUP.Do(func() { signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP) })
	m, f, ca, _, addr := startFiles(t, time.Hour)
	run(t, m)
	c2, k2 := pair(t, ca, "voice.example.net")
	writeFiles(t, f, c2, k2)
	waitFor(t, "the reload on SIGHUP", func() bool {
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		return servedLeaf(t, addr).Subject.CommonName == "voice.example.net"
	})
}

// A start with unusable files fails with an error naming the file.
func TestFilesRefusedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := adminCA(t)
	c, k := pair(t, ca, "pbx.example.net")
	f := adminFiles{filepath.Join(dir, "pbx.crt"), filepath.Join(dir, "pbx.key")}
	writeFiles(t, f, c, []byte("nothing"))
	if _, err := New(t.Context(), Options{CertFile: f.cert, KeyFile: f.key}); err == nil || !strings.Contains(err.Error(), f.key) {
		t.Fatalf("err %v, want one naming the key file", err)
	}
	writeFiles(t, f, c, k)
	if _, err := New(t.Context(), Options{CertFile: f.cert, KeyFile: f.key, Now: func() time.Time { return time.Now().Add(400 * 24 * time.Hour) }}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("err %v, want expired", err)
	}
	if _, err := New(t.Context(), Options{CertFile: f.cert}); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	if _, err := New(t.Context(), Options{CertFile: filepath.Join(dir, "missing.crt"), KeyFile: f.key}); err == nil || !strings.Contains(err.Error(), "missing.crt") {
		t.Fatalf("err %v, want one naming the missing file", err)
	}
}
