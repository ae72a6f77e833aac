package main

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/dialtone/dialtone/admin"
	"github.com/dialtone/dialtone/flex"
	"github.com/dialtone/dialtone/mail"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/sip"
)

// registrarForAdmin gives the admin API the registrar's bindings and check-sync.
type registrarForAdmin struct{ srv *sip.Server }

func (r registrarForAdmin) Registrations(tenant string) any { return r.srv.Registrations(tenant) }

func (r registrarForAdmin) Resync(ctx context.Context, mac string) error {
	err := r.srv.Resync(ctx, mac)
	if errors.Is(err, sip.ErrNotRegistered) {
		return &admin.Problem{Status: 409, Code: "not_registered", Message: "the phone has no live registration to notify"}
	}
	return err
}

func (r registrarForAdmin) StartAction(tenant, action string, macs []string, rate int) (any, error) {
	rep, err := r.srv.StartAction(tenant, action, macs, rate)
	if errors.Is(err, sip.ErrActionQueueFull) {
		return nil, &admin.Problem{Status: 429, Code: "queue_full", Message: err.Error()}
	}
	return rep, err
}

func (r registrarForAdmin) PhoneAction(tenant, id string) (any, bool) {
	return r.srv.Action(tenant, id)
}

// UpstreamState shows how the tenant's registration to its upstream stands; nil when
// it is not registering.
func (r registrarForAdmin) UpstreamState(tenant string) any {
	if st, ok := r.srv.UpstreamState(tenant); ok {
		return st
	}
	return nil
}

// flexForAdmin gives the admin API (and the phones' XML apps through it) the flex desk.
type flexForAdmin struct{ desk *flex.Desk }

func (f flexForAdmin) Login(ctx context.Context, tenant, mac, ext, pin, source string) error {
	_, err := f.desk.Login(ctx, tenant, mac, ext, pin, flex.Via{How: "api", Source: source})
	switch {
	case errors.Is(err, flex.ErrLocked):
		return &admin.Problem{Status: 429, Code: "locked", Message: flex.ErrLocked.Error()}
	case errors.Is(err, flex.ErrWrongPIN):
		return &admin.Problem{Status: 403, Code: "wrong_extension_or_pin", Message: flex.ErrWrongPIN.Error()}
	}
	return err
}

func (f flexForAdmin) Logout(ctx context.Context, tenant, mac string) error {
	_, err := f.desk.Logout(ctx, tenant, mac, flex.Via{How: "api"})
	return err
}

// wireAdmin builds the admin API over the store and the other services.
func (m *Main) wireAdmin(reg *sip.Server, desk *flex.Desk, prov *provision.Provisioner, mailer *mail.Mailer) (*admin.API, error) {
	proxies := m.proxies
	cfg := admin.Config{
		Store: m.store, Logger: m.log.With("svc", "admin"), PublicHost: m.cfg.PublicHost,
		HTTPPort: atoiOr(portOf(m.Addrs["http"]), 8080), SecureBaseURL: m.secureBaseURL(), TLS: m.tls,
		TrustedProxies: proxies,
		Flex:           flexForAdmin{desk},
		Outbox:         mailer,
		Welcome:        mailer,
		// Firmware, model profiles and template overrides (admin/provisioning.go).
		Provisioning: prov,
		TemplateDir:  filepath.Join(m.cfg.Data, "templates"),
	}
	if reg != nil {
		cfg.Registrations, cfg.Resyncer, cfg.Actions = registrarForAdmin{reg}, registrarForAdmin{reg}, registrarForAdmin{reg}
		cfg.Upstreams = registrarForAdmin{reg}
	}
	return admin.New(cfg)
}

// wireMail builds the mailer: welcome and reset mails wait in the store's outbox and are
// sent in the background when --smtp is set.
func (m *Main) wireMail() (*mail.Mailer, error) {
	mailer, err := mail.New(mail.Config{
		Store: m.store, Logger: m.log.With("svc", "mail"), SMTP: m.cfg.SMTP,
		From: m.cfg.MailFrom, BaseURL: m.publicURL(true), // set-password links over HTTPS when it is on
	})
	if err != nil {
		return nil, err
	}
	m.services = append(m.services, service{name: "mail", serve: mailer.Run})
	m.registerMailMetrics(mailer)
	m.mailer = mailer
	return mailer, nil
}
