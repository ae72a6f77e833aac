package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"

	"github.com/dialtone/dialtone/internal/tlscert"
)

// wireTLS loads or creates the appliance's certificate (see internal/tlscert) and runs
// its reloads and renewals. Listeners take m.tls.ServerConfig(...).
func (m *Main) wireTLS() error {
	t, err := tlscert.New(context.Background(), tlscert.Options{
		Dir:           filepath.Join(m.cfg.Data, "tls"),
		CertFile:      m.cfg.TLSCert,
		KeyFile:       m.cfg.TLSKey,
		ACMEDomain:    m.cfg.ACMEDomain,
		ACMEEmail:     m.cfg.ACMEEmail,
		ACMEDirectory: m.cfg.ACMEDirectory,
		PublicHost:    m.cfg.PublicHost,
		Hosts:         listenHosts(m.Addrs),
		Log:           m.log.With("svc", "tls"),
	})
	if err != nil {
		switch {
		case m.cfg.TLSCert != "" || m.cfg.TLSKey != "":
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		case m.cfg.ACMEDomain != "":
			return fmt.Errorf("--acme-domain %s: %w", m.cfg.ACMEDomain, err)
		default:
			return fmt.Errorf("--data %s: tls: %w", m.cfg.Data, err)
		}
	}
	m.tls = t
	m.services = append(m.services, service{name: "tls", serve: t.Run})
	return nil
}

// listenHosts is the addresses the listeners are bound to, for the private CA's server
// certificate; a listener on every address stands for each interface address.
func listenHosts(addrs map[string]string) []string {
	var out []string
	add := func(h string) {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			continue
		}
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsUnspecified() {
			add(host)
			continue
		}
		ifAddrs, err := net.InterfaceAddrs()
		if err != nil {
			continue
		}
		for _, ia := range ifAddrs {
			if ipn, ok := ia.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
				add(ipn.IP.String())
			}
		}
	}
	slices.Sort(out)
	return out
}
