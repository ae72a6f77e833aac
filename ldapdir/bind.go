package ldapdir

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

type identityKind uint8

const (
	anonymous identityKind = iota
	phonebook
	user
)

// identity is who the connection is bound as; a bound identity sees only its tenant.
type identity struct {
	kind   identityKind
	tenant string // slug
	dn     string
}

// bind answers a BindRequest (RFC 4511 §4.2): simple authentication, LDAPv2 or v3.
func (c *conn) bind(ctx context.Context, id int64, body []byte) error {
	vt, rest, err := next(body)
	if err != nil || vt.tag != tagInteger {
		return errors.New("bind: version")
	}
	nt, rest, err := next(rest)
	if err != nil || nt.tag != tagOctetString {
		return errors.New("bind: name")
	}
	at, _, err := next(rest)
	if err != nil {
		return errors.New("bind: authentication")
	}
	c.who = identity{} // a bind, even a failed one, leaves the connection anonymous (§4.2.1)
	version, err := parseInt(vt.body)
	if err != nil || (version != 2 && version != 3) {
		c.result(id, appBindResponse, resultProtocolError, "", "LDAP version 2 or 3 only")
		return nil
	}
	if at.tag != ctxTag(false, 0) {
		c.result(id, appBindResponse, resultAuthMethodNotSupported, "", "simple bind only")
		return nil
	}
	name, password := string(nt.body), string(at.body)
	switch {
	case name == "" && password == "":
		c.result(id, appBindResponse, resultSuccess, "", "") // anonymous (RFC 4513 §5.1.1)
		return nil
	case password == "":
		// An unauthenticated bind is never success for a named DN (RFC 4513 §5.1.2).
		c.result(id, appBindResponse, resultUnwillingToPerform, "", "unauthenticated bind (empty password) refused")
		return nil
	}
	if !c.secure {
		// confidentialityRequired (RFC 4511 §A.2) before the password is looked at.
		if diag := c.srv.cleartextRefused(name); diag != "" {
			c.srv.log.Debug("ldap bind without TLS refused", "remote", c.ip, "name", name)
			c.result(id, appBindResponse, resultConfidentialityRequired, "", diag)
			return nil
		}
	}
	allowed, started := c.srv.strikes.Attempt(c.src)
	if !allowed {
		c.result(id, appBindResponse, resultInvalidCredentials, "", "too many failed binds, try later")
		return nil
	}
	who, ok, err := c.srv.authenticate(ctx, name, password)
	switch {
	case err != nil:
		if !started {
			c.srv.strikes.Refund(c.src) // nothing was checked
		}
		// busy (RFC 4511 §A.2): the password gate stayed full; the client may retry.
		c.result(id, appBindResponse, resultBusy, "", "server busy checking passwords, try again shortly")
		return nil
	case !ok:
		if started {
			c.srv.log.Warn("ldap bind failures throttled", "remote", c.ip, "failures", bindFailMax, "locked_for", bindLockout)
		}
		c.result(id, appBindResponse, resultInvalidCredentials, "", "")
		return nil
	}
	c.srv.strikes.Clear(c.src)
	c.who = who
	c.base = baseCache{}
	c.result(id, appBindResponse, resultSuccess, "", "")
	return nil
}

// authenticate resolves a bind name (phonebook DN, person DN or e-mail) and checks the
// password. Nothing about which part was wrong leaves this function; err is set only
// when a password could not be checked (the password gate was busy).
func (s *Server) authenticate(ctx context.Context, name, password string) (identity, bool, error) {
	if !strings.Contains(name, "=") && strings.Contains(name, "@") {
		return s.authenticateMail(ctx, name, password)
	}
	dn, err := ldap.ParseDN(name)
	if err != nil {
		return identity{}, false, nil
	}
	ref := resolveDN(dn)
	if !ref.ok {
		return identity{}, false, nil
	}
	snap := s.dir.snapshot(ref.tenant)
	if snap == nil {
		return identity{}, false, nil
	}
	slug := snap.tenant.Slug
	switch ref.kind {
	case refPhonebook:
		want := snap.tenant.PhonebookPassword
		if want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1 {
			return identity{kind: phonebook, tenant: slug, dn: "cn=phonebook," + tenantDN(slug)}, true, nil
		}
	case refPerson:
		e := snap.personByID(ref.rest)
		if e == nil {
			_, err := s.checkPassword(ctx, slug, "", password) // as long as for a person who exists
			return identity{}, false, err
		}
		ok, err := s.checkPassword(ctx, slug, e.person.ID, password)
		if ok {
			return identity{kind: user, tenant: slug, dn: e.dn}, true, nil
		}
		return identity{}, false, err
	}
	return identity{}, false, nil
}

func (s *Server) authenticateMail(ctx context.Context, addr, password string) (identity, bool, error) {
	found := false
	for _, slug := range s.dir.Tenants() {
		snap := s.dir.snapshot(slug)
		if snap == nil {
			continue
		}
		for _, e := range snap.personByMail(addr) {
			found = true
			ok, err := s.checkPassword(ctx, snap.tenant.Slug, e.person.ID, password)
			if err != nil {
				return identity{}, false, err
			}
			if ok {
				return identity{kind: user, tenant: snap.tenant.Slug, dn: e.dn}, true, nil
			}
		}
	}
	if !found {
		_, err := s.checkPassword(ctx, "", "", password) // as long as for an address that exists
		return identity{}, false, err
	}
	return identity{}, false, nil
}

// checkPassword asks the Authenticator; an error other than ratelimit.ErrBusy is logged
// and counts as a wrong password, ErrBusy is handed back (the bind answers busy).
func (s *Server) checkPassword(ctx context.Context, tenant, userID, password string) (bool, error) {
	if s.opts.Auth == nil {
		return false, nil
	}
	ok, err := s.opts.Auth.CheckPassword(ctx, tenant, userID, password)
	if errors.Is(err, ratelimit.ErrBusy) {
		return false, err
	}
	if err != nil {
		s.log.Warn("ldap bind: password check failed", "tenant", tenant, "user", userID, "err", err)
		return false, nil
	}
	return ok, nil
}
