package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"strings"
	"sync"

	"github.com/dialtone/dialtone/store"
)

// Account is one SIP account as the registrar needs it: an extension's, or the guest
// account of a flex phone.
type Account struct {
	Tenant    string
	Username  string // sip_username (global)
	Password  string // opened; never logged
	Extension string // extension number; empty for a guest account
	UserID    string
	GuestMAC  string // the flex phone this guest account belongs to
}

// Directory is what the registrar reads from the store, each by one keyed read.
// cmd/dialtone passes StoreDirectory; errors wrap store.ErrNotFound when nothing matches.
type Directory interface {
	// TenantByDomain gives the tenant whose sip_domain is domain.
	TenantByDomain(domain string) (store.Tenant, error)
	Tenant(slug string) (store.Tenant, error)
	// Account finds a SIP account by its (global) SIP username, password opened.
	Account(username string) (Account, error)
	// Phone gives a phone by MAC and the SIP usernames it registers with now (its
	// user's extensions, or its guest account while a flex phone has nobody logged in).
	Phone(mac string) (store.Phone, []string, error)
	// UserPhones and TenantPhones give MACs whose configs a change may alter.
	UserPhones(tenant, userID string) ([]string, error)
	TenantPhones(tenant string) ([]string, error)
}

// credential is a cached account with its HA1 per algorithm for its tenant's realm, so
// a REGISTER costs no store read and no password hashing (RFC 7616 §3.4.2: H(A1) may be
// kept instead of the password).
type credential struct {
	Account
	realm     string
	ha1MD5    string
	ha1SHA256 string
}

// tenantInfo is a cached tenant: its realm and emergency numbers.
type tenantInfo struct {
	slug      string
	realm     string
	emergency []string
}

// Accounts caches credentials and tenants in memory; store change events invalidate.
type Accounts struct {
	dir        Directory
	publicHost string
	creds      sync.Map // username -> *credential
	domains    sync.Map // lower(domain) -> *tenantInfo
	tenants    sync.Map // slug -> *tenantInfo
}

func newAccounts(dir Directory, publicHost string) *Accounts {
	return &Accounts{dir: dir, publicHost: strings.ToLower(publicHost)}
}

var errNoTenant = errors.New("domain not served")

// DefaultTenant is the tenant an IP address or the public host selects.
const DefaultTenant = "default"

// tenantFor resolves the tenant of a request from the host of its To or Request-URI
// (INTERFACES.md: an IP address or the public host means "default").
func (a *Accounts) tenantFor(host string) (*tenantInfo, error) {
	h := strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if _, err := netip.ParseAddr(h); err == nil || h == a.publicHost || h == "localhost" || h == "" {
		return a.tenant(DefaultTenant)
	}
	if v, ok := a.domains.Load(h); ok {
		return v.(*tenantInfo), nil
	}
	t, err := a.dir.TenantByDomain(h)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoTenant
		}
		return nil, err
	}
	ti := a.info(t)
	a.domains.Store(h, ti)
	return ti, nil
}

func (a *Accounts) tenant(slug string) (*tenantInfo, error) {
	if v, ok := a.tenants.Load(slug); ok {
		return v.(*tenantInfo), nil
	}
	t, err := a.dir.Tenant(slug)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoTenant
		}
		return nil, err
	}
	return a.info(t), nil
}

func (a *Accounts) info(t store.Tenant) *tenantInfo {
	realm := strings.ToLower(t.SIPDomain)
	if realm == "" {
		realm = a.publicHost
	}
	ti := &tenantInfo{slug: t.Slug, realm: realm, emergency: t.EmergencyNumbers}
	a.tenants.Store(t.Slug, ti)
	return ti
}

// credential gives the cached credential of username, reading the store once on a miss.
func (a *Accounts) credential(username string) (*credential, error) {
	if v, ok := a.creds.Load(username); ok {
		return v.(*credential), nil
	}
	acc, err := a.dir.Account(username)
	if err != nil {
		return nil, err
	}
	ti, err := a.tenant(acc.Tenant)
	if err != nil {
		return nil, err
	}
	c := &credential{Account: acc, realm: ti.realm}
	m := md5.Sum([]byte(acc.Username + ":" + ti.realm + ":" + acc.Password))
	c.ha1MD5 = hex.EncodeToString(m[:])
	s := sha256.Sum256([]byte(acc.Username + ":" + ti.realm + ":" + acc.Password))
	c.ha1SHA256 = hex.EncodeToString(s[:])
	a.creds.Store(username, c)
	return c, nil
}

// forgetUser drops a cached credential.
func (a *Accounts) forgetUser(username string) {
	if username != "" {
		a.creds.Delete(username)
	}
}

// forgetAll drops every cached credential and tenant (a tenant changed its domain).
func (a *Accounts) forgetAll() {
	a.creds.Range(func(k, _ any) bool { a.creds.Delete(k); return true })
	a.domains.Range(func(k, _ any) bool { a.domains.Delete(k); return true })
	a.tenants.Range(func(k, _ any) bool { a.tenants.Delete(k); return true })
}
