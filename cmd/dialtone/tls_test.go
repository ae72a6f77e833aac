package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func tlsTestConfig(data string) Config {
	return Config{Data: data, HTTP: "127.0.0.1:0", PublicHost: "pbx.example.net", AdminPassword: testAdminPassword}
}

// serve's first start makes the private CA under --data and logs its fingerprint; the
// next start keeps it; its server certificate verifies, against the CA alone, for the
// public host and the address HTTP is bound to.
func TestServeMakesPrivateCA(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	var log syncBuf
	m, err := NewMain(tlsTestConfig(data), slog.New(slog.NewTextHandler(&log, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	fp := m.tls.Fingerprint()
	if fp == "" || !strings.Contains(log.String(), "ca_sha256="+fp) {
		t.Fatalf("fingerprint %q not logged:\n%s", fp, log.String())
	}
	caPEM, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil || !bytes.Equal(caPEM, m.tls.CAPEM()) {
		t.Fatalf("ca.pem: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", m.tls.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	for _, name := range []string{"pbx.example.net", "127.0.0.1"} {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.Close()
	}
	m.Close()

	m, err = NewMain(tlsTestConfig(data), slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.tls.Fingerprint() != fp {
		t.Fatalf("second start fingerprint %s, first %s", m.tls.Fingerprint(), fp)
	}
}

// A bad --acme-domain, an unreachable ACME CA and a key without its certificate each
// stop the start with an error naming the flag.
func TestServeTLSFlagErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		mutate func(*Config)
		want   []string
	}{
		{func(c *Config) { c.ACMEDomain = "pbx.local" }, []string{"--acme-domain pbx.local:", "not a public name"}},
		{func(c *Config) { c.ACMEDomain = "pbx.example.net"; c.ACMEDirectory = "http://127.0.0.1:1/directory" },
			[]string{"--acme-domain pbx.example.net:", "cannot be reached", "http://127.0.0.1:1/directory"}},
		{func(c *Config) { c.TLSKey = "/nonexistent.key" }, []string{"--tls-cert/--tls-key:", "both or neither"}},
	} {
		cfg := tlsTestConfig(t.TempDir())
		c.mutate(&cfg)
		_, err := NewMain(cfg, slog.New(slog.DiscardHandler), io.Discard)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Fatalf("err %v, want %q", err, w)
			}
		}
	}
}

func TestConfigTLSKeys(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "dialtone.conf")
	os.WriteFile(file, []byte("tls-cert = /etc/dialtone/pbx.crt\ntls-key = /etc/dialtone/pbx.key\nacme-email = ops@example.net\n"), 0o600)
	c, err := parseServeConfig([]string{"--config", file, "--acme-domain", "pbx.example.net"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.TLSCert != "/etc/dialtone/pbx.crt" || c.TLSKey != "/etc/dialtone/pbx.key" || c.ACMEDomain != "pbx.example.net" || c.ACMEEmail != "ops@example.net" {
		t.Fatalf("%+v", c)
	}
}

// --https is a flag, a DIALTONE_HTTPS variable and a config key; an empty value turns
// HTTPS off; the default depends on whether serve runs as root.
func TestConfigHTTPS(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "dialtone.conf")
	os.WriteFile(file, []byte("https = :9443\n"), 0o600)
	c, err := parseServeConfig([]string{"--config", file}, envMap(nil), io.Discard)
	if err != nil || c.HTTPS != ":9443" {
		t.Fatalf("config key: %q %v", c.HTTPS, err)
	}
	c, _ = parseServeConfig([]string{"--config", file}, envMap(map[string]string{"DIALTONE_HTTPS": ""}), io.Discard)
	if c.HTTPS != "" {
		t.Fatalf("DIALTONE_HTTPS='': %q", c.HTTPS)
	}
	c, _ = parseServeConfig([]string{"--https", "127.0.0.1:8444"}, envMap(nil), io.Discard)
	if c.HTTPS != "127.0.0.1:8444" {
		t.Fatalf("flag: %q", c.HTTPS)
	}
	c, _ = parseServeConfig(nil, envMap(nil), io.Discard)
	want := ":8443"
	if os.Geteuid() == 0 {
		want = ":443"
	}
	if c.HTTPS != want {
		t.Fatalf("default %q, want %q", c.HTTPS, want)
	}
}
