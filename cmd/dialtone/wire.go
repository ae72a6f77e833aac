package main

import (
	"context"
	"fmt"
	"net"

	"github.com/dialtone/dialtone/console"
	"github.com/dialtone/dialtone/flex"
	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/ldapdir"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// wire builds every service over the bound listeners and connects the packages through
// the interfaces they declare.
func (m *Main) wire() error {
	m.registerStoreMetrics()
	proxies, err := m.trustedProxies()
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	m.proxies = proxies
	if err := m.wireTLS(); err != nil {
		return err
	}
	m.registerProcessMetrics()
	desk := flex.New(m.store, m.log, nil)
	m.registerFlexMetrics(desk)
	m.services = append(m.services, service{name: "flex", serve: func(ctx context.Context) (err error) {
		crash.Restart(m.log, "flex", "auto-logout", func() { err = desk.Run(ctx) })
		return err
	}})
	m.services = append(m.services, service{name: "audit-retention", serve: func(ctx context.Context) (err error) {
		crash.Restart(m.log, "audit-retention", "sweep", func() { err = m.store.RunAuditSweep(ctx) })
		return err
	}})
	reg, err := m.wireSIP(desk)
	if err != nil {
		return err
	}
	dir, err := m.wireLDAP()
	if err != nil {
		return err
	}
	prov, err := m.wireProvision(hook(m.hooks().phonebooks, provision.Phonebooks(dir)), reg)
	if err != nil {
		return err
	}
	if m.pnp != nil {
		m.pnp.prov = prov // plug-and-play answers from the provisioner (wire_pnp.go)
	}
	mailer, err := m.wireMail()
	if err != nil {
		return err
	}
	api, err := m.wireAdmin(reg, desk, prov, mailer)
	if err != nil {
		return err
	}
	// Phones' fetches come first: the busiest path, told by its prefix alone.
	// The web console at / and /set-password, the page welcome and reset mails link to
	// (console/doc.go).
	web, err := console.New()
	if err != nil {
		return err
	}
	mounts := []httpMount{provisionMount(prov), api.Mount, web.Mount}
	m.services = append(m.services, m.httpService(mounts), m.controlService())
	if m.metricsLn != nil {
		m.services = append(m.services, m.metricsService())
	}
	sched, err := scheduleFromConfig(m.cfg)
	if err != nil {
		return err
	}
	if sched != nil {
		m.services = append(m.services, m.backupService(sched))
	}
	return nil
}

// testHooks wrap what a service calls for each request, so a test can make one service
// fail (panic) inside the assembled server. Each nil field leaves the real one.
type testHooks struct {
	phonebooks   func(provision.Phonebooks) provision.Phonebooks
	ldapAuth     func(ldapdir.Authenticator) ldapdir.Authenticator
	sipDirectory func(sip.Directory) sip.Directory
	// httpListener wraps the HTTP and HTTPS listeners (under TLS), e.g. so that
	// connections report another peer address.
	httpListener func(net.Listener) net.Listener
	// storeOptions changes how the store is opened (e.g. read-only).
	storeOptions func(*store.Options)
}

func (m *Main) hooks() testHooks {
	if m.cfg.hooks == nil {
		return testHooks{}
	}
	return *m.cfg.hooks
}

// hook gives wrap(real), or real when the test set no wrap.
func hook[T any](wrap func(T) T, real T) T {
	if wrap == nil {
		return real
	}
	return wrap(real)
}
