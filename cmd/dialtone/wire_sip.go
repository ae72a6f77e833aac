package main

import (
	"context"
	"errors"

	"github.com/dialtone/dialtone/calllog"
	"github.com/dialtone/dialtone/dialplan"
	"github.com/dialtone/dialtone/flex"
	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/sip"
)

// flexOverSIP lets the registrar's *55 / *56 codes reach the flex desk.
type flexOverSIP struct{ desk *flex.Desk }

func (f flexOverSIP) Login(ctx context.Context, l sip.FlexLogin) error {
	_, err := f.desk.Login(ctx, l.Tenant, l.MAC, l.Extension, l.PIN, flex.Via{How: "sip", Source: l.Source})
	switch {
	case errors.Is(err, flex.ErrLocked):
		return sip.ErrFlexLocked
	case errors.Is(err, flex.ErrWrongPIN):
		return sip.ErrFlexWrong
	}
	return err
}

func (f flexOverSIP) Logout(ctx context.Context, l sip.FlexLogout) error {
	_, err := f.desk.LogoutDialled(ctx, l.Tenant, l.MAC, l.UserID, flex.Via{How: "sip", Source: l.Source})
	if errors.Is(err, flex.ErrNotYours) {
		return sip.ErrFlexNotYours
	}
	return err
}

// wireSIP starts the registrar on the bound UDP socket and TCP listener, and on the
// SIP-over-TLS listener when --sips is set.
func (m *Main) wireSIP(desk *flex.Desk) (*sip.Server, error) {
	calls, err := m.wireCallLog() // its retention sweep runs without SIP too
	if err != nil {
		return nil, err
	}
	if m.sipPC == nil && m.sipsLn == nil {
		return nil, nil
	}
	pnp, err := pnpConfig(m.cfg)
	if err != nil {
		return nil, err
	}
	cfg := sip.Config{Store: m.store, Logger: m.log.With("svc", "sip"),
		PublicHost: m.cfg.PublicHost, Flex: flexOverSIP{desk}, Directory: hook(m.hooks().sipDirectory, sip.Directory(sip.StoreDirectory{S: m.store})),
		TCPConnsPerSource: capOrNone(m.cfg.SIPConnsPerSource, sip.DefaultTCPConnsPerSource), TCPRefused: m.refusedCounter("sip"),
		OnRegister: m.registerObserver(), Calls: calls, Dialplan: dialplan.New(m.store),
		InvitesPerSource: capOrNone(m.cfg.SIPInvitesPerSource, sip.DefaultInvitesPerSource)}
	if pnp != nil {
		cfg.PnP, m.pnp = pnp, pnp
	}
	srv, err := sip.New(cfg)
	if err != nil {
		return nil, err
	}
	if pnp != nil && m.sipPC != nil {
		m.joinPnP()
	}
	m.closers = append(m.closers, srv.Close)
	if m.sipPC != nil {
		m.services = append(m.services,
			service{name: "sip-udp", serve: func(ctx context.Context) error { return srv.ServeUDP(ctx, m.sipPC) }},
			service{name: "sip-tcp", serve: func(ctx context.Context) error { return srv.ServeTCP(ctx, m.sipLn) }},
		)
	}
	if m.sipsLn != nil {
		conf := m.tls.ServerConfig()
		m.services = append(m.services,
			service{name: "sip-tls", serve: func(ctx context.Context) error { return srv.ServeTLS(ctx, m.sipsLn, conf) }})
	}
	m.registerSIPMetrics(srv)
	m.registerBLFMetrics(srv)
	return srv, nil
}

// wireCallLog starts the call history: the observer the proxy tells of every call, its
// writer, and the retention sweep.
func (m *Main) wireCallLog() (*calllog.Log, error) {
	l, err := calllog.New(calllog.Config{Store: m.store, Logger: m.log})
	if err != nil {
		return nil, err
	}
	m.services = append(m.services,
		service{name: "calllog", serve: func(ctx context.Context) (err error) {
			crash.Restart(m.log, "calllog", "writer", func() { err = l.Run(ctx) })
			return err
		}},
		service{name: "call-history-retention", serve: func(ctx context.Context) (err error) {
			crash.Restart(m.log, "call-history-retention", "sweep", func() { err = m.store.RunCallSweep(ctx) })
			return err
		}})
	m.registerCallLogMetrics(l)
	return l, nil
}
