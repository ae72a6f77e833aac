package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultTenant is the tenant of bare TFTP names, IP-addressed SIP requests and the
// first start.
const DefaultTenant = "default"

// ProvisioningDigest is Tenant.ProvisioningAuth for per-phone HTTP Digest credentials.
const ProvisioningDigest = "digest"

// NewTenant holds what a caller chooses when creating a tenant; the rest is generated.
type NewTenant struct {
	Slug, Name, SIPDomain, Language, Timezone string
	ExtMin, ExtMax                            int
}

func (in *NewTenant) check() error {
	if !ValidSlug(in.Slug) {
		return invalid("slug", "2 to 32 lower-case letters, digits and hyphens")
	}
	if in.Name == "" {
		in.Name = in.Slug
	}
	if !ValidName(in.Name) {
		return invalid("name", "1 to 100 printable characters")
	}
	in.SIPDomain = strings.ToLower(strings.TrimSpace(in.SIPDomain))
	if in.SIPDomain == "" {
		in.SIPDomain = in.Slug + ".dialtone.local"
	}
	if !validDomain(in.SIPDomain) {
		return invalid("sip_domain", "not a host name")
	}
	if in.Language == "" {
		in.Language = "en"
	}
	lang, ok := NormalizeLanguage(in.Language)
	if !ok {
		return invalid("language", "unknown language %q", in.Language)
	}
	in.Language = lang
	if in.Timezone == "" {
		in.Timezone = "UTC"
	}
	if !ValidTimezone(in.Timezone) {
		return invalid("timezone", "not an IANA time zone name")
	}
	if in.ExtMin == 0 && in.ExtMax == 0 {
		in.ExtMin, in.ExtMax = 100, 99999
	}
	if in.ExtMin < 10 || in.ExtMax > 99999999 || in.ExtMin > in.ExtMax {
		return invalid("ext_min", "extension range must satisfy 10 <= ext_min <= ext_max <= 99999999")
	}
	return nil
}

func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// CreateTenant creates a tenant with a fresh provisioning token and phonebook and phone
// admin passwords.
func (tx *Tx) CreateTenant(in NewTenant) (Tenant, error) {
	if err := in.check(); err != nil {
		return Tenant{}, err
	}
	if ok, err := tx.exists("tenant/" + in.Slug); err != nil || ok {
		return Tenant{}, errors.Join(err, conflict("slug", "tenant %q exists", in.Slug))
	}
	if ok, err := tx.exists("idx/sipdomain/" + in.SIPDomain); err != nil || ok {
		return Tenant{}, errors.Join(err, conflict("sip_domain", "SIP domain %q is taken", in.SIPDomain))
	}
	sec := tx.s.secrets
	t := Tenant{
		Slug: in.Slug, Name: in.Name, SIPDomain: in.SIPDomain, Language: in.Language,
		Timezone: in.Timezone, ExtMin: in.ExtMin, ExtMax: in.ExtMax,
		ProvisioningToken:  NewToken(),
		PhonebookPassword:  sec.Seal(GeneratePassword()),
		PhoneAdminPassword: sec.Seal(GeneratePassword()),
		AutoLogout:         "daily:03:00",
		Created:            tx.s.now().UTC(),
	}
	return t, tx.putTenant(nil, t)
}

// SaveTenant writes a changed tenant, keeping the token and domain indexes right.
func (tx *Tx) SaveTenant(prev Tenant, next Tenant) error {
	if next.Slug != prev.Slug {
		return invalid("slug", "a tenant's slug cannot change")
	}
	if !ValidName(next.Name) {
		return invalid("name", "1 to 100 printable characters")
	}
	next.SIPDomain = strings.ToLower(strings.TrimSpace(next.SIPDomain))
	if !validDomain(next.SIPDomain) {
		return invalid("sip_domain", "not a host name")
	}
	if next.SIPDomain != prev.SIPDomain {
		if ok, err := tx.exists("idx/sipdomain/" + next.SIPDomain); err != nil || ok {
			return errors.Join(err, conflict("sip_domain", "SIP domain %q is taken", next.SIPDomain))
		}
	}
	lang, ok := NormalizeLanguage(next.Language)
	if !ok {
		return invalid("language", "unknown language %q", next.Language)
	}
	next.Language = lang
	if !ValidTimezone(next.Timezone) {
		return invalid("timezone", "not an IANA time zone name")
	}
	if next.ExtMin < 10 || next.ExtMax > 99999999 || next.ExtMin > next.ExtMax {
		return invalid("ext_min", "extension range must satisfy 10 <= ext_min <= ext_max <= 99999999")
	}
	if _, err := AutoLogoutAt(next.AutoLogout, next.Timezone, tx.s.now()); err != nil {
		return err
	}
	if next.ProvisioningAuth != "" && next.ProvisioningAuth != ProvisioningDigest {
		return invalid("provisioning_auth", "token or digest")
	}
	if next.TFTPBareNames && next.Slug != DefaultTenant {
		return invalid("tftp_bare_names", "only the default tenant is reached by TFTP names without a token")
	}
	if next.PreviousToken != "" && !tx.s.now().Before(next.PreviousTokenExpires) {
		next.PreviousToken, next.PreviousTokenExpires = "", time.Time{} // its grace is over
	}
	if err := checkPINAndAuditSettings(next); err != nil {
		return err
	}
	if err := checkCallHistory(next); err != nil {
		return err
	}
	if err := tx.checkDeviceAuth(next); err != nil {
		return err
	}
	if len(next.EmergencyNumbers) > 16 {
		return invalid("emergency_numbers", "at most 16 emergency numbers")
	}
	for _, n := range next.EmergencyNumbers {
		if len(n) < 2 || len(n) > 15 || strings.Trim(n, "0123456789") != "" {
			return invalid("emergency_numbers", "%q: an emergency number is 2 to 15 digits, e.g. 112", n)
		}
	}
	if next.LDAPPhonebookTLSOnly && !next.PhonebookLDAPS {
		return invalid("ldap_phonebook_cleartext", "the phonebook account can bind over TLS only when phones are pointed at LDAPS: turn on phonebook_ldaps first")
	}
	if err := checkCallRouting(&next.CallRouting); err != nil {
		return err
	}
	if next.MaxCalls < 0 || next.MaxCalls > MaxMaxCalls {
		return invalid("max_calls", "calls in progress at once for the tenant: 1 to %d (0: %d)", MaxMaxCalls, DefaultMaxCalls)
	}
	if next.MaxCallsPerUser < 0 || next.MaxCallsPerUser > MaxMaxCalls {
		return invalid("max_calls_per_user", "calls in progress at once for one user: 1 to %d (0: %d)", MaxMaxCalls, DefaultMaxCallsPerUser)
	}
	if err := checkSIPDigest("sip_digest", &next.SIPDigest); err != nil {
		return err
	}
	if err := checkSIPSecurity(&next); err != nil {
		return err
	}
	if err := tx.checkPnPSubnets(&next); err != nil {
		return err
	}
	return tx.putTenant(&prev, next)
}

// RotateProvisioningToken gives the tenant a new provisioning token; the old one is
// still accepted for grace (0: refused at once). A token from an earlier rotation still
// in its grace is refused from now on.
func (tx *Tx) RotateProvisioningToken(slug string, grace time.Duration) (Tenant, error) {
	if grace < 0 || grace > 90*24*time.Hour {
		return Tenant{}, invalid("grace", "from 0 to 90 days (2160h)")
	}
	prev, err := tx.Tenant(slug)
	if err != nil {
		return prev, err
	}
	next := prev
	next.ProvisioningToken = NewToken()
	next.PreviousToken, next.PreviousTokenExpires = "", time.Time{}
	if grace > 0 {
		next.PreviousToken, next.PreviousTokenExpires = prev.ProvisioningToken, tx.s.now().UTC().Add(grace)
	}
	return next, tx.putTenant(&prev, next)
}

// TokenValid says whether token still selects t at now: the current token, or the
// previous one within its grace.
func (t Tenant) TokenValid(token string, now time.Time) bool {
	return token != "" && (token == t.ProvisioningToken || token == t.PreviousToken && now.Before(t.PreviousTokenExpires))
}

// LDAPRequireTLS reports whether people's simple binds (their login password) are
// refused on an LDAP connection without TLS (the default).
func (t Tenant) LDAPRequireTLS() bool { return !t.LDAPUserCleartext }

// LDAPPhonebookCleartext reports whether the phonebook account may bind on an LDAP
// connection without TLS (the default, for phones without LDAPS).
func (t Tenant) LDAPPhonebookCleartext() bool { return !t.LDAPPhonebookTLSOnly }

// DefaultSIPDigest is what the registrar offers a tenant that set no sip_digest: an MD5
// challenge first, then SHA-256 (RFC 8760 §2.4: one challenge per algorithm, in order of
// preference). MD5 first is what Kamailio, Asterisk and FreeSWITCH send by default, and
// what a phone that reads only the first challenge and knows only MD5 needs.
const DefaultSIPDigest = "md5,sha-256"

// SIPDigests are the values sip_digest may take (a tenant's or a model's).
var SIPDigests = []string{"md5", "md5,sha-256", "sha-256,md5", "sha-256"}

// SIPDigestOffer is the tenant's sip_digest, or the default.
func (t Tenant) SIPDigestOffer() string {
	if t.SIPDigest == "" {
		return DefaultSIPDigest
	}
	return t.SIPDigest
}

// checkSIPDigest normalises a sip_digest value (case and spaces); "" stays "" (the
// default, or for a model the tenant's).
func checkSIPDigest(field string, v *string) error {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(*v), " ", ""))
	if n == "" || slices.Contains(SIPDigests, n) {
		*v = n
		return nil
	}
	return invalid(field, "%q: one of %s", *v, strings.Join(SIPDigests, " | "))
}

func (tx *Tx) putTenant(prev *Tenant, t Tenant) error {
	if prev != nil {
		for _, old := range []string{prev.ProvisioningToken, prev.PreviousToken} {
			if old != "" && old != t.ProvisioningToken && old != t.PreviousToken {
				if err := tx.del("idx/token/" + old); err != nil {
					return err
				}
			}
		}
		if prev.SIPDomain != t.SIPDomain {
			if err := tx.del("idx/sipdomain/" + prev.SIPDomain); err != nil {
				return err
			}
		}
	}
	if err := tx.put("tenant/"+t.Slug, t); err != nil {
		return err
	}
	if err := tx.putRaw("idx/token/"+t.ProvisioningToken, t.Slug); err != nil {
		return err
	}
	if t.PreviousToken != "" {
		if err := tx.putRaw("idx/token/"+t.PreviousToken, t.Slug); err != nil {
			return err
		}
	}
	if err := tx.putRaw("idx/sipdomain/"+t.SIPDomain, t.Slug); err != nil {
		return err
	}
	c := Change{Kind: KindTenant, Op: OpPut, Tenant: t.Slug, ID: t.Slug, New: t}
	if prev != nil {
		c.Old = *prev
	}
	tx.Emit(c)
	return nil
}

// Tenant reads a tenant by slug.
func (tx *Tx) Tenant(slug string) (Tenant, error) {
	var t Tenant
	if err := tx.get("tenant/"+slug, &t); err != nil {
		return t, fmt.Errorf("tenant %q: %w", slug, err)
	}
	return t, nil
}

// TenantByToken finds the tenant of a provisioning token: the current one, or the one
// before the last rotation within its grace (callers holding the tenant longer check
// Tenant.TokenValid against their clock).
func (tx *Tx) TenantByToken(token string) (Tenant, error) {
	if token == "" || len(token) > 128 {
		return Tenant{}, ErrNotFound
	}
	slug, err := tx.getRaw("idx/token/" + token)
	if err != nil {
		return Tenant{}, err
	}
	t, err := tx.Tenant(slug)
	if err == nil && !t.TokenValid(token, tx.s.now()) {
		return Tenant{}, fmt.Errorf("provisioning token: %w", ErrNotFound)
	}
	return t, err
}

// TenantBySIPDomain finds the tenant serving a SIP domain.
func (tx *Tx) TenantBySIPDomain(domain string) (Tenant, error) {
	slug, err := tx.getRaw("idx/sipdomain/" + strings.ToLower(domain))
	if err != nil {
		return Tenant{}, err
	}
	return tx.Tenant(slug)
}

// Tenants lists tenants in slug order after cursor, at most limit (0: all).
func (tx *Tx) Tenants(cursor string, limit int) ([]Tenant, error) {
	var out []Tenant
	err := scanValues(tx, "tenant/", cursor, limit, func(t Tenant) bool { out = append(out, t); return true })
	return out, err
}

// Convenience single-call readers for the protocol packages' hot paths.

// Tenant reads a tenant by slug.
func (s *Store) Tenant(slug string) (t Tenant, err error) {
	err = s.View(func(tx *Tx) error { t, err = tx.Tenant(slug); return err })
	return t, err
}

// TenantByToken finds the tenant of a provisioning token.
func (s *Store) TenantByToken(token string) (t Tenant, err error) {
	err = s.View(func(tx *Tx) error { t, err = tx.TenantByToken(token); return err })
	return t, err
}

// TenantBySIPDomain finds the tenant serving a SIP domain.
func (s *Store) TenantBySIPDomain(domain string) (t Tenant, err error) {
	err = s.View(func(tx *Tx) error { t, err = tx.TenantBySIPDomain(domain); return err })
	return t, err
}

// Tenants lists every tenant.
func (s *Store) Tenants() (ts []Tenant, err error) {
	err = s.View(func(tx *Tx) error { ts, err = tx.Tenants("", 0); return err })
	return ts, err
}

// PhonebookPassword opens the tenant's phonebook bind password.
func (s *Store) PhonebookPassword(t Tenant) (string, error) {
	return s.secrets.Open(t.PhonebookPassword)
}

// PhoneAdminPassword opens a phone's web admin password: its own, or for a phone not
// saved since passwords became per phone, the tenant's former one.
func (s *Store) PhoneAdminPassword(t Tenant, p Phone) (string, error) {
	if p.AdminPassword != "" {
		return s.secrets.Open(p.AdminPassword)
	}
	return s.secrets.Open(t.PhoneAdminPassword)
}
