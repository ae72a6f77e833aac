package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

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
	// ModelProfiles gives the tenant's model profiles (their sip_digest overrides).
	ModelProfiles(tenant string) ([]store.ModelProfile, error)
}

// credential is a cached account with its HA1 per algorithm for its tenant's realm, so
// a REGISTER costs no store read and no password hashing (RFC 7616 §3.4.2: H(A1) may be
// kept instead of the password).
type credential struct {
	Account
	ha1MD5    string
	ha1SHA256 string
}

// tenantInfo is a cached tenant: its realm, emergency numbers and digest offers.
type tenantInfo struct {
	slug        string
	realm       string
	emergency   []string
	digest      []string            // the tenant's sip_digest as challenges, in order
	modelDigest map[string][]string // model profiles' sip_digest overrides by modelKey
	callsMax    int                 // max_calls (store.Tenant.CallLimits)
	callsUser   int                 // max_calls_per_user
}

// Accounts caches credentials and tenants in memory; store change events invalidate.
// Credentials sit in sharded maps (a REGISTER costs one hash and one map probe; a
// sync.Map lookup cost several times that at 10,000 accounts).
type Accounts struct {
	dir        Directory
	publicHost string
	seed       maphash.Seed
	shards     [credShards]credShard
	// gen counts invalidations: a credential read from the store while one happened is
	// not cached, so a change racing a cache fill cannot leave a stale password behind.
	gen atomic.Uint64

	tmu     sync.RWMutex
	domains map[string]*tenantInfo // lower(domain) -> tenant
	tenants map[string]*tenantInfo // slug -> tenant
}

const credShards = 64

type credShard struct {
	mu sync.RWMutex
	m  map[string]*credential // username -> credential
}

func newAccounts(dir Directory, publicHost string) *Accounts {
	a := &Accounts{dir: dir, publicHost: strings.ToLower(publicHost), seed: maphash.MakeSeed(),
		domains: make(map[string]*tenantInfo), tenants: make(map[string]*tenantInfo)}
	for i := range a.shards {
		a.shards[i].m = make(map[string]*credential)
	}
	return a
}

func (a *Accounts) shard(username string) *credShard {
	return &a.shards[maphash.String(a.seed, username)%credShards]
}

var errNoTenant = errors.New("domain not served")

// DefaultTenant is the tenant an IP address or the public host selects.
const DefaultTenant = "default"

// tenantFor resolves the tenant of a request from the host of its To or Request-URI
// (docs/sip.md: an IP address or the public host means "default").
func (a *Accounts) tenantFor(host string) (*tenantInfo, error) {
	h := host
	if needsFolding(h) {
		h = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	}
	a.tmu.RLock()
	ti := a.domains[h]
	a.tmu.RUnlock()
	if ti != nil {
		return ti, nil
	}
	if _, err := netip.ParseAddr(h); err == nil || h == a.publicHost || h == "localhost" || h == "" {
		return a.tenant(DefaultTenant)
	}
	g := a.gen.Load()
	t, err := a.dir.TenantByDomain(h)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoTenant
		}
		return nil, err
	}
	if ti, err = a.info(t, g); err != nil {
		return nil, err
	}
	a.tmu.Lock()
	if a.gen.Load() == g {
		a.domains[h] = ti
	}
	a.tmu.Unlock()
	return ti, nil
}

// needsFolding: host has upper case, brackets or a trailing dot.
func needsFolding(host string) bool {
	for i := 0; i < len(host); i++ {
		if c := host[i]; c >= 'A' && c <= 'Z' || c == '[' || c == ']' {
			return true
		}
	}
	return strings.HasSuffix(host, ".")
}

func (a *Accounts) tenant(slug string) (*tenantInfo, error) {
	a.tmu.RLock()
	ti := a.tenants[slug]
	a.tmu.RUnlock()
	if ti != nil {
		return ti, nil
	}
	g := a.gen.Load()
	t, err := a.dir.Tenant(slug)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoTenant
		}
		return nil, err
	}
	return a.info(t, g)
}

// info caches t (unless an invalidation happened since gen g was read) and returns it.
func (a *Accounts) info(t store.Tenant, g uint64) (*tenantInfo, error) {
	realm := strings.ToLower(t.SIPDomain)
	if realm == "" {
		realm = a.publicHost
	}
	ti := &tenantInfo{slug: t.Slug, realm: realm, emergency: t.EmergencyNumbers, digest: offerOf(t.SIPDigest)}
	ti.callsMax, ti.callsUser = t.CallLimits()
	mps, err := a.dir.ModelProfiles(t.Slug)
	if err != nil {
		return nil, err
	}
	for _, mp := range mps {
		if mp.SIPDigest == "" {
			continue
		}
		if ti.modelDigest == nil {
			ti.modelDigest = make(map[string][]string)
		}
		ti.modelDigest[modelKey(mp.Make, mp.Model)] = offerOf(mp.SIPDigest)
	}
	a.tmu.Lock()
	if a.gen.Load() == g {
		a.tenants[t.Slug] = ti
	}
	a.tmu.Unlock()
	return ti, nil
}

// credential gives the cached credential of username, reading the store once on a miss.
func (a *Accounts) credential(username string) (*credential, error) {
	sh := a.shard(username)
	sh.mu.RLock()
	c := sh.m[username]
	sh.mu.RUnlock()
	if c != nil {
		return c, nil
	}
	g := a.gen.Load()
	acc, err := a.dir.Account(username)
	if err != nil {
		return nil, err
	}
	ti, err := a.tenant(acc.Tenant)
	if err != nil {
		return nil, err
	}
	c = &credential{Account: acc}
	m := md5.Sum([]byte(acc.Username + ":" + ti.realm + ":" + acc.Password))
	c.ha1MD5 = hex.EncodeToString(m[:])
	s := sha256.Sum256([]byte(acc.Username + ":" + ti.realm + ":" + acc.Password))
	c.ha1SHA256 = hex.EncodeToString(s[:])
	sh.mu.Lock()
	if a.gen.Load() == g {
		sh.m[username] = c
	}
	sh.mu.Unlock()
	return c, nil
}

// forgetUser drops a cached credential.
func (a *Accounts) forgetUser(username string) {
	if username == "" {
		return
	}
	a.gen.Add(1)
	sh := a.shard(username)
	sh.mu.Lock()
	delete(sh.m, username)
	sh.mu.Unlock()
}

// forgetTenants drops the cached tenants (a model profile changed its sip_digest).
func (a *Accounts) forgetTenants() {
	a.gen.Add(1)
	a.tmu.Lock()
	clear(a.domains)
	clear(a.tenants)
	a.tmu.Unlock()
}

// forgetAll drops every cached credential and tenant (a tenant changed its domain).
func (a *Accounts) forgetAll() {
	a.gen.Add(1)
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
	a.tmu.Lock()
	clear(a.domains)
	clear(a.tenants)
	a.tmu.Unlock()
}
