package ldapdir

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// resultConfidentialityRequired (13, RFC 4511 §A.2): the session is not protected by TLS.
const resultConfidentialityRequired = ldap.LDAPResultConfidentialityRequired

// Diagnostics of a simple bind refused on a connection without TLS. They name the way
// out (LDAPS or StartTLS) and the tenant setting that asks for it, never whether the
// name exists.
const (
	diagUserNeedsTLS      = "binding with a login password needs TLS: connect with ldaps:// or send StartTLS first (tenant setting ldap_require_tls)"
	diagPhonebookNeedsTLS = "the phonebook account binds over TLS only: connect with ldaps:// or send StartTLS first (tenant setting ldap_phonebook_cleartext)"
)

// cleartextRefused decides whether a simple bind as name may go on over a connection
// without TLS, before any password is looked at: a name/password bind without
// confidentiality protection exposes the password (RFC 4513 §5.1.3, §6.3.1), so the
// tenant decides. People (a DN under ou=people or an e-mail address) follow the tenant's
// UserNeedsTLS, the phonebook account its PhonebookNeedsTLS. A person's name whose
// tenant cannot be told (an unknown tenant or e-mail address) is refused when any tenant
// refuses people in clear, so the answer does not tell which names exist. It returns the
// diagnostic of the refusal, or "" when the bind may go on.
func (s *Server) cleartextRefused(name string) string {
	if !strings.Contains(name, "=") && strings.Contains(name, "@") {
		found, refuse := false, false
		for _, slug := range s.dir.Tenants() {
			snap := s.dir.snapshot(slug)
			if snap == nil {
				continue
			}
			if len(snap.personByMail(name)) > 0 {
				found = true
				refuse = refuse || snap.tenant.UserNeedsTLS
			}
		}
		if refuse || (!found && s.anyTenantRefusesUsers()) {
			return diagUserNeedsTLS
		}
		return ""
	}
	dn, err := ldap.ParseDN(name)
	if err != nil {
		return ""
	}
	ref := resolveDN(dn)
	if !ref.ok {
		return ""
	}
	snap := s.dir.snapshot(ref.tenant)
	switch ref.kind {
	case refPhonebook:
		if snap != nil && snap.tenant.PhonebookNeedsTLS {
			return diagPhonebookNeedsTLS
		}
	case refPerson:
		if (snap != nil && snap.tenant.UserNeedsTLS) || (snap == nil && s.anyTenantRefusesUsers()) {
			return diagUserNeedsTLS
		}
	}
	return ""
}

func (s *Server) anyTenantRefusesUsers() bool {
	for _, slug := range s.dir.Tenants() {
		if snap := s.dir.snapshot(slug); snap != nil && snap.tenant.UserNeedsTLS {
			return true
		}
	}
	return false
}
