package tlscert

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openssl s_client, trusting only the CA file Dialtone wrote, verifies the served
// certificate for the public host and for 127.0.0.1, refuses another name, and reads the
// same fingerprint as Fingerprint.
func TestOpenSSLVerifies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (CI installs it)")
	}
	dir := t.TempDir()
	m := newManager(t, Options{Dir: dir, PublicHost: "pbx.example.net"})
	addr := serveTLS(t, m.ServerConfig())
	caFile := filepath.Join(dir, caCertFile)

	sclient := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", addr, "-CAfile", caFile, "-verify_return_error", "-brief"}, args...)...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, check := range [][]string{
		{"-servername", "pbx.example.net", "-verify_hostname", "pbx.example.net"},
		{"-verify_ip", "127.0.0.1"},
	} {
		out, err := sclient(check...)
		if err != nil || !strings.Contains(out, "Verification: OK") || !strings.Contains(out, "TLSv1.3") {
			t.Fatalf("%v: %v\n%s", check, err, out)
		}
	}
	if out, err := sclient("-verify_hostname", "other.example.net"); err == nil {
		t.Fatalf("another name verified:\n%s", out)
	}
	if out, err := sclient("-tls1_2", "-verify_ip", "127.0.0.1"); err != nil || !strings.Contains(out, "ECDHE-ECDSA-AES128-GCM-SHA256") {
		t.Fatalf("TLS 1.2: %v\n%s", err, out)
	}

	out, err := exec.Command("openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", caFile).Output()
	if err != nil {
		t.Fatal(err)
	}
	_, got, _ := strings.Cut(strings.TrimSpace(string(out)), "=")
	if got != m.Fingerprint() {
		t.Fatalf("openssl reads %s, Fingerprint %s", got, m.Fingerprint())
	}
	pemFile, _ := os.ReadFile(caFile)
	if string(pemFile) != string(m.CAPEM()) {
		t.Fatal("CAPEM differs from the CA file")
	}
}
