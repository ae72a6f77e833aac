package tlscert

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/acme/autocert"
)

// Options say where the appliance's certificate comes from. At most one source is
// named: CertFile and KeyFile (the admin's own), or ACMEDomain (a public CA); with
// neither, the private CA under Dir.
type Options struct {
	// Dir holds the private CA and its server certificate, and ACME's cache ({data}/tls).
	Dir string
	// CertFile and KeyFile are the admin's PEM certificate chain and key.
	CertFile, KeyFile string
	// ACMEDomain is the public name to get a certificate for by ACME (RFC 8555).
	ACMEDomain string
	// ACMEDirectory is the ACME CA's directory URL (default Let's Encrypt's).
	ACMEDirectory string
	// ACMEEmail is the contact given to the ACME CA for expiry notices (optional).
	ACMEEmail string
	// ACMETimeout bounds the start's check that the ACME CA can be reached (default 15s).
	ACMETimeout time.Duration
	// PublicHost is the name or address phones use; it names the private CA and is the
	// first name of its server certificate.
	PublicHost string
	// Hosts are further names and addresses the server certificate must carry (the
	// addresses the listeners are bound to). localhost, 127.0.0.1 and ::1 are always added.
	Hosts []string
	// Log receives reloads, renewals and refused files.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollInterval is how often CertFile and KeyFile are looked at for a change
	// (default 5s).
	PollInterval time.Duration
	// RenewInterval is how often the private CA's server certificate is checked for
	// renewal (default 1h).
	RenewInterval time.Duration
}

// The sources a Manager's certificate comes from.
const (
	SourcePrivateCA = "private-ca"
	SourceFiles     = "files"
	SourceACME      = "acme"
)

// state is the certificate being served and the trust anchor handed to phones, swapped
// whole so a handshake never sees one without the other.
type state struct {
	cert   *tls.Certificate
	caPEM  []byte
	caFP   string
	source string
}

// Manager holds the appliance's one certificate and serves it to every TLS listener
// through GetCertificate, so a reloaded or renewed certificate is used from the next
// handshake on without a restart.
type Manager struct {
	o     Options
	log   *slog.Logger
	hosts []string
	cur   atomic.Pointer[state]

	// mu serialises reloads and renewals (the poll, SIGHUP and Reload callers).
	mu         sync.Mutex
	ca         *privateCA
	certStamp  fileStamp
	keyStamp   fileStamp
	acme       *autocert.Manager
	acmeDomain string
}

// New loads or creates the certificate named by o. It fails when the admin's files are
// unusable, when the private CA's files are damaged, or when the ACME CA cannot be
// reached and nothing is cached yet.
func New(ctx context.Context, o Options) (*Manager, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.RenewInterval <= 0 {
		o.RenewInterval = time.Hour
	}
	if o.ACMETimeout <= 0 {
		o.ACMETimeout = 15 * time.Second
	}
	m := &Manager{o: o, log: o.Log}
	switch {
	case (o.CertFile == "") != (o.KeyFile == ""):
		return nil, errors.New("a certificate file and a key file go together: give both or neither")
	case o.CertFile != "" && o.ACMEDomain != "":
		return nil, errors.New("a certificate file and an ACME domain exclude each other: give one")
	case o.CertFile != "":
		if err := m.loadFiles(); err != nil {
			return nil, err
		}
	case o.ACMEDomain != "":
		if err := m.startACME(ctx); err != nil {
			return nil, err
		}
	default:
		if err := m.startPrivateCA(); err != nil {
			return nil, err
		}
	}
	s := m.cur.Load()
	attrs := []any{"source", s.source}
	if s.cert != nil {
		attrs = append(attrs, "subject", s.cert.Leaf.Subject.CommonName, "names", certNames(s.cert),
			"expires", s.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if s.caFP != "" {
		attrs = append(attrs, "ca_sha256", s.caFP)
	}
	if m.acmeDomain != "" {
		attrs = append(attrs, "domain", m.acmeDomain)
	}
	m.log.Info("tls certificate", attrs...)
	return m, nil
}

func (m *Manager) startPrivateCA() error {
	if m.o.Dir == "" {
		return errors.New("no directory for the private CA")
	}
	host := m.o.PublicHost
	if host == "" {
		host = "localhost"
	}
	m.hosts = serverHosts(host, m.o.Hosts)
	ca, created, err := loadOrCreateCA(m.o.Dir, "Dialtone CA "+host, m.o.Now())
	if err != nil {
		return fmt.Errorf("private CA: %w", err)
	}
	m.ca = ca
	if created {
		m.log.Info("first start: created a private CA; install its certificate in phones' trusted certificates",
			"dir", m.o.Dir, "ca_sha256", fingerprint(ca.cert.Raw))
	}
	if left := ca.cert.NotAfter.Sub(m.o.Now()); left < 365*24*time.Hour {
		m.log.Warn("private CA expires soon: make a new one and install it in the phones",
			"expires", ca.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return m.renewIfDue()
}

// renewIfDue keeps the private CA's server certificate, or issues a new one when there is
// none, it lacks a host, or it is due for renewal.
func (m *Manager) renewIfDue() error {
	now := m.o.Now()
	if s := m.cur.Load(); s != nil && !dueForRenewal(s.cert.Leaf, now) {
		return nil
	}
	cert, why := m.ca.loadServer(m.hosts, now)
	if cert == nil {
		var err error
		if cert, err = m.ca.issue(m.hosts, now); err != nil {
			return fmt.Errorf("server certificate: %w", err)
		}
		m.log.Info("issued server certificate", "reason", why, "names", certNames(cert),
			"expires", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	m.cur.Store(&state{cert: cert, caPEM: m.ca.pem, caFP: fingerprint(m.ca.cert.Raw), source: SourcePrivateCA})
	return nil
}

func (m *Manager) loadFiles() error {
	certStamp, keyStamp := stampOf(m.o.CertFile), stampOf(m.o.KeyFile)
	s, err := loadFiles(m.o.CertFile, m.o.KeyFile, m.o.Now())
	m.certStamp, m.keyStamp = certStamp, keyStamp
	if err != nil {
		return err
	}
	if fi := keyStamp.info; fi != nil && fi.Mode().Perm()&0o077 != 0 {
		m.log.Warn("key file is readable by others than its owner: chmod 600 it", "file", m.o.KeyFile, "mode", fi.Mode().Perm().String())
	}
	m.cur.Store(s)
	return nil
}

// Reload reads the admin's files again (on SIGHUP, or when the poll saw them change) or,
// with the private CA, renews its server certificate if due. A file that cannot be used
// is refused with an error and the certificate in use is kept.
func (m *Manager) Reload() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reloadLocked()
}

func (m *Manager) reloadLocked() error {
	switch {
	case m.o.CertFile != "":
		old := m.cur.Load()
		if err := m.loadFiles(); err != nil {
			m.log.Warn("tls certificate files refused; still serving the previous certificate", "err", err,
				"expires", old.cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
			return err
		}
		s := m.cur.Load()
		m.log.Info("tls certificate reloaded", "subject", s.cert.Leaf.Subject.CommonName, "names", certNames(s.cert),
			"expires", s.cert.Leaf.NotAfter.UTC().Format(time.RFC3339), "ca_sha256", s.caFP)
	case m.ca != nil:
		if err := m.renewIfDue(); err != nil {
			m.log.Error("renewing the server certificate failed; still serving the previous one", "err", err)
			return err
		}
	}
	return nil
}

// filesChanged tells whether the admin's files differ from what was last read.
func (m *Manager) filesChanged() bool {
	return !stampOf(m.o.CertFile).same(m.certStamp) || !stampOf(m.o.KeyFile).same(m.keyStamp)
}

// Run reloads on SIGHUP, polls the admin's files for a change and renews the private
// CA's server certificate, until ctx is cancelled. ACME renews on its own schedule.
func (m *Manager) Run(ctx context.Context) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	every := m.o.RenewInterval
	if m.o.CertFile != "" {
		every = m.o.PollInterval
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			m.log.Info("SIGHUP: reloading the tls certificate")
			m.Reload()
		case <-tick.C:
			m.mu.Lock()
			if m.o.CertFile == "" || m.filesChanged() {
				m.reloadLocked()
			}
			m.mu.Unlock()
		}
	}
}

// GetCertificate is tls.Config.GetCertificate: the certificate in use at this handshake.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if m.acme != nil {
		if hello.ServerName == "" {
			// A phone given the address, not the name, sends no SNI (RFC 6066 section 3
			// forbids IP literals in it); the one domain is the only answer there is.
			h := *hello
			h.ServerName = m.acmeDomain
			hello = &h
		}
		return m.acme.GetCertificate(hello)
	}
	return m.cur.Load().cert, nil
}

// Source is where the certificate comes from: SourcePrivateCA, SourceFiles or SourceACME.
func (m *Manager) Source() string { return m.cur.Load().source }

// CAPEM is the certificate phones and browsers should trust, PEM encoded: the private
// CA's; with the admin's files, the last certificate of the chain in the file; nil with
// ACME (public CAs are trusted already).
func (m *Manager) CAPEM() []byte { return slices.Clone(m.cur.Load().caPEM) }

// Fingerprint is the SHA-256 fingerprint of CAPEM's certificate, as openssl prints it
// (AA:BB:…), or "" with ACME.
func (m *Manager) Fingerprint() string { return m.cur.Load().caFP }

// Certificate is the certificate in use (nil with ACME before its first issuance).
func (m *Manager) Certificate() *tls.Certificate { return m.cur.Load().cert }

// serverHosts is the public host first, then the other hosts and the loopback names,
// without duplicates or unspecified addresses.
func serverHosts(public string, more []string) []string {
	var out []string
	for _, h := range append(append([]string{public}, more...), "localhost", "127.0.0.1", "::1") {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				continue
			}
			h = ip.String()
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func certNames(c *tls.Certificate) string {
	names := slices.Clone(c.Leaf.DNSNames)
	for _, ip := range c.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return strings.Join(names, ",")
}
