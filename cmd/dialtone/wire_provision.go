package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// flexState tells provisioning who is logged in at a flex phone: one keyed read.
type flexState struct{ st *store.Store }

func (f flexState) FlexUser(tenant, mac string) (string, bool) {
	var s store.FlexSession
	err := f.st.View(func(tx *store.Tx) (err error) { s, err = tx.Flex(tenant, mac); return err })
	return s.UserID, err == nil && s.UserID != ""
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return p
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// trustedProxies parses --trusted-proxy (addresses or prefixes).
func (m *Main) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(m.cfg.TrustedProxy, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// wireProvision builds the provisioner for HTTP /p/… and TFTP.
func (m *Main) wireProvision(books provision.Phonebooks, reg *sip.Server) (*provision.Provisioner, error) {
	proxies := m.proxies
	overrides := filepath.Join(m.cfg.Data, "templates")
	if err := os.MkdirAll(overrides, 0o750); err != nil {
		return nil, err
	}
	var onFetch func(tenant, mac string, at time.Time)
	if reg != nil {
		onFetch = reg.PhoneFetched // remote actions: "fetched" after their NOTIFY
	}
	p, err := provision.New(provision.Config{
		OnFetch: onFetch,
		Store:   m.store, BaseURL: m.publicURL(false), SecureBaseURL: m.secureBaseURL(), CAPEM: m.privateCA(),
		PublicHost: m.cfg.PublicHost,
		SIPPort:    atoiOr(portOf(m.Addrs["sip"]), 5060), SIPSPort: atoiOr(portOf(m.Addrs["sips"]), 5061), LDAPPort: atoiOr(portOf(m.Addrs["ldap"]), 389),
		LDAPSPort: atoiOr(portOf(m.Addrs["ldaps"]), 0),
		DataDir:   m.cfg.Data, Overrides: os.DirFS(overrides), Phonebooks: books,
		Flex: flexState{m.store}, TrustedProxies: proxies, Logger: m.log.With("svc", "provision"),
	})
	if err != nil {
		return nil, err
	}
	m.closers = append(m.closers, func() error { p.Close(); return nil })
	m.registerProvisionMetrics(p)
	if m.tftpPC != nil {
		m.services = append(m.services, service{name: "tftp", serve: func(ctx context.Context) error {
			return p.ServeTFTP(ctx, m.tftpPC)
		}})
	}
	return p, nil
}

// provisionMount routes /p/… to the provisioner, labelled by kind of file for metrics.
func provisionMount(p *provision.Provisioner) httpMount {
	return func(ctx *fasthttp.RequestCtx) (string, bool) {
		if !p.HTTPHandler(ctx) {
			return "", false
		}
		path := ctx.URI().PathOriginal()
		switch {
		case bytes.Contains(path, []byte("/fw/")):
			return "/p/{token}/fw/{file}", true
		case bytes.Contains(path, []byte("/directory/")):
			return "/p/{token}/directory/{vendor}.xml", true
		}
		return "/p/{token}/{file}", true
	}
}
