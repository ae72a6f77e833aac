package tlscert

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// startACME sets up autocert for the one domain and checks, before anything is served,
// that the ACME CA answers. Unreachable with a certificate already cached is a warning
// (the cached one is served and renewal is retried); unreachable with nothing cached is
// the start's error.
func (m *Manager) startACME(ctx context.Context) error {
	domain := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(m.o.ACMEDomain)), ".")
	if err := checkDomain(domain); err != nil {
		return err
	}
	if m.o.Dir == "" {
		return errors.New("no directory for the ACME cache")
	}
	dir := m.o.ACMEDirectory
	if dir == "" {
		dir = autocert.DefaultACMEDirectory
	}
	client := &acme.Client{DirectoryURL: dir, HTTPClient: &http.Client{Timeout: m.o.ACMETimeout}}
	cache := autocert.DirCache(filepath.Join(m.o.Dir, "acme"))
	m.acme = &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      cache,
		HostPolicy: autocert.HostWhitelist(domain),
		Client:     client,
		Email:      m.o.ACMEEmail,
	}
	m.acmeDomain = domain
	m.cur.Store(&state{source: SourceACME})

	cctx, cancel := context.WithTimeout(ctx, m.o.ACMETimeout)
	defer cancel()
	_, err := client.Discover(cctx)
	if err == nil {
		return nil
	}
	reach := fmt.Errorf("ACME CA %s cannot be reached: %w (the appliance needs outbound HTTPS to it, and %s must resolve to this host and reach its HTTPS listener on port 443 for the TLS-ALPN-01 challenge)", dir, err, domain)
	if _, cerr := cache.Get(ctx, domain); cerr == nil {
		m.log.Warn("serving the cached ACME certificate; renewal will be retried", "domain", domain, "err", reach)
		return nil
	}
	return reach
}

// checkDomain refuses what no public ACME CA issues for: an address, a single label, a
// name reserved for local networks, or a name with characters DNS does not allow.
func checkDomain(d string) error {
	switch {
	case d == "":
		return errors.New("ACME domain is empty")
	case net.ParseIP(d) != nil:
		return fmt.Errorf("ACME domain %q is an address; give the public DNS name that points to it", d)
	case !strings.Contains(d, "."):
		return fmt.Errorf("ACME domain %q is a single label; give a public DNS name (e.g. pbx.example.com)", d)
	case len(d) > 253:
		return fmt.Errorf("ACME domain is longer than 253 characters")
	}
	for _, suffix := range []string{".local", ".localhost", ".lan", ".home.arpa", ".internal", ".invalid", ".test"} {
		if strings.HasSuffix(d, suffix) || d == suffix[1:] {
			return fmt.Errorf("ACME domain %q is not a public name (%s is for local use); public CAs cannot check it: leave --acme-domain out to use the private CA", d, suffix)
		}
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("ACME domain %q has an invalid label %q", d, label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Errorf("ACME domain %q has a character DNS does not allow: %q", d, c)
			}
		}
	}
	return nil
}
