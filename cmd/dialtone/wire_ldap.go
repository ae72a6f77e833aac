package main

import (
	"context"

	"github.com/dialtone/dialtone/ldapdir"
)

// wireLDAP builds the in-memory directory (kept current from the store's change events)
// and, when --ldap or --ldaps is set, the LDAP server over it: one server for both
// listeners, so the per-source caps and bind throttle count LDAP and LDAPS together,
// with the appliance's certificate for LDAPS and for StartTLS on --ldap. The directory
// also renders the XML phonebooks that provisioning serves.
func (m *Main) wireLDAP() (*ldapdir.Directory, error) {
	dir := ldapdir.NewDirectory()
	follower, err := ldapdir.Follow(m.store, dir, m.store)
	if err != nil {
		return nil, err
	}
	m.closers = append(m.closers, func() error { follower.Stop(); return nil })
	m.follower = follower
	if m.ldapLn == nil && m.ldapsLn == nil {
		return dir, nil
	}
	srv := ldapdir.New(dir, ldapdir.Options{Logger: m.log.With("svc", "ldap"), Auth: hook(m.hooks().ldapAuth, ldapdir.Authenticator(ldapdir.StoreAuth{Store: m.store})),
		TLS: m.tls.ServerConfig(), ConnsPerSource: capOrNone(m.cfg.LDAPConnsPerSource, ldapdir.DefaultConnsPerSource), Refused: m.refusedCounter("ldap"),
		Observe: m.ldapObserver()})
	if m.ldapLn != nil {
		m.services = append(m.services, service{name: "ldap", serve: func(ctx context.Context) error {
			return srv.Serve(ctx, m.ldapLn)
		}})
	}
	if m.ldapsLn != nil {
		m.services = append(m.services, service{name: "ldaps", serve: func(ctx context.Context) error {
			return srv.ServeTLS(ctx, m.ldapsLn)
		}})
	}
	return dir, nil
}
