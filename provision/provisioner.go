package provision

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/internal/digest"
	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
	"github.com/dialtone/dialtone/templates"
)

// Phonebooks writes a tenant's XML remote phonebook in a make's format
// (docs/ldap.md); ldapdir.Directory implements it and cmd/dialtone passes it in.
type Phonebooks interface {
	WriteXML(w io.Writer, tenant, vendor string, mobile bool) error
}

// FlexState tells who is logged in on a flex phone; cmd/dialtone wires the
// flex-login records. Nil means nobody ever is: flex phones get their guest line.
type FlexState interface {
	FlexUser(tenant, mac string) (userID string, ok bool)
}

// Config is what New needs.
type Config struct {
	Store *store.Store
	// BaseURL is how phones reach the HTTP listener, e.g. http://pbx.example:8080;
	// provisioning URLs are BaseURL/p/{token}/.
	BaseURL string
	// SecureBaseURL is how phones reach the HTTPS listener (empty when it is off):
	// tenants with provisioning_https_only get provisioning URLs under it.
	SecureBaseURL string
	// CAPEM is the private CA written into configs for phones to trust (nil: none,
	// the certificate is from a public CA or the admin's files); phones fetch it from
	// BaseURL/ca.pem.
	CAPEM      []byte
	PublicHost string // written into configs as the SIP outbound proxy and LDAP host
	SIPPort    int    // 5060 when 0
	SIPSPort   int    // SIP over TLS, for tenants whose sip_transport is tls; 5061 when 0
	LDAPPort   int    // 389 when 0
	NTP        string // pool.ntp.org when empty
	// ResyncMinutes is the periodic re-check written into configs (60 when 0).
	ResyncMinutes int
	// LDAPSPort is the LDAPS listener's port, written into configs of tenants with
	// phonebook_ldaps; 0 (no LDAPS listener) leaves them on plain LDAP.
	LDAPSPort int
	// DataDir holds firmware files under DataDir/firmware/{tenant}/.
	DataDir string
	// Templates defaults to templates.FS; Overrides (may be nil) wins per file name.
	Templates  fs.FS
	Overrides  fs.FS
	Phonebooks Phonebooks // nil: directory requests answer 404
	// OnFetch, when set, is told each file served to a known phone of a tenant (the
	// registrar's remote actions mark the phone "fetched"); it must not block.
	OnFetch func(tenant, mac string, at time.Time)
	Flex    FlexState
	// TrustedProxies may set X-Forwarded-For; from any other address it is ignored.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Now            func() time.Time
	// LogEvery is how often fetches are written to the provisioning log and
	// phones' last-seen (2s when 0); repeats within it become one entry.
	LogEvery time.Duration
	// RenderCacheBytes caps the render cache (DefaultRenderCacheBytes when 0); the
	// least recently used files give way.
	RenderCacheBytes int64
	// TFTPTransferTime bounds one TFTP transfer (DefaultTFTPTransferTime when 0).
	TFTPTransferTime time.Duration
}

// Provisioner answers phones' file requests over HTTP and TFTP.
type Provisioner struct {
	cfg      Config
	st       *store.Store
	log      *slog.Logger
	cat      *Catalogue
	renderer *Renderer
	cache    *renderCache
	parsed   parseMemo                      // file names and User-Agents already parsed
	scans    *ratelimit.Strikes[netip.Addr] // unknown-MAC scans, by source (throttle.go)
	events   *fetchLog
	trust    *trustPools // each tenant's vendor CAs (deviceauth.go)
	unsub    func()
	// Digest nonces and wrong-credential strikes (auth.go).
	nonces    *digest.Nonces
	authFails *ratelimit.Strikes[netip.Addr]
	// tftpCounts counts finished TFTP transfers by result (stats.go).
	tftpCounts tftpCounts

	tokMu   sync.RWMutex
	byToken map[string]*store.Tenant // token → tenant, dropped on tenant changes
	bySlug  map[string]*store.Tenant // TFTP's bare names, dropped likewise
	pnp     *pnpClaims               // tenants' pnp_subnets (pnp.go), dropped likewise

	fwOnce    sync.Once
	fwHandler func(*fasthttp.RequestCtx)

	closeOnce sync.Once
}

// New builds a Provisioner and subscribes it to the store's change events.
// Close stops it.
func New(cfg Config) (*Provisioner, error) {
	if cfg.Store == nil {
		return nil, errors.New("provision: no store")
	}
	if cfg.Templates == nil {
		cfg.Templates = templates.FS
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SIPPort == 0 {
		cfg.SIPPort = 5060
	}
	if cfg.SIPSPort == 0 {
		cfg.SIPSPort = 5061
	}
	if cfg.LDAPPort == 0 {
		cfg.LDAPPort = 389
	}
	if cfg.NTP == "" {
		cfg.NTP = "pool.ntp.org"
	}
	if cfg.TFTPTransferTime <= 0 {
		cfg.TFTPTransferTime = DefaultTFTPTransferTime
	}
	if cfg.ResyncMinutes == 0 {
		cfg.ResyncMinutes = 60
	}
	if cfg.PublicHost == "" {
		cfg.PublicHost = "127.0.0.1"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.PublicHost + ":8080"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.SecureBaseURL = strings.TrimRight(cfg.SecureBaseURL, "/")
	cat, err := LoadCatalogue(cfg.Templates)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("svc", "provision")
	p := &Provisioner{
		cfg: cfg, st: cfg.Store, log: log, cat: cat,
		renderer:  NewRenderer(cfg.Templates, cfg.Overrides),
		cache:     newRenderCache(cfg.RenderCacheBytes),
		scans:     newScanThrottle(cfg.Now),
		trust:     newTrustPools(),
		byToken:   map[string]*store.Tenant{},
		bySlug:    map[string]*store.Tenant{},
		nonces:    newProvNonces(cfg.Now),
		authFails: newAuthFails(cfg.Now),
	}
	p.events = newFetchLog(p.st, log, cfg.LogEvery)
	p.unsub = p.st.Subscribe(p.onChange)
	return p, nil
}

// Close ends the subscription and writes the last log entries.
func (p *Provisioner) Close() {
	p.closeOnce.Do(func() {
		p.unsub()
		p.events.close()
	})
}

// Catalogue is the model table in use.
func (p *Provisioner) Catalogue() *Catalogue { return p.cat }

// onChange drops what a committed change makes stale (store calls it before the
// writer returns, so the next fetch renders afresh).
func (p *Provisioner) onChange(c store.Change) {
	if c.Op == store.OpReload { // a change was missed: forget every cached answer
		p.tokMu.Lock()
		p.byToken, p.bySlug = map[string]*store.Tenant{}, map[string]*store.Tenant{}
		p.pnp = nil
		p.tokMu.Unlock()
		p.renderer.Drop()
		p.cache.dropAll()
		p.trust.drop("")
		return
	}
	switch c.Kind {
	case store.KindTenant:
		p.tokMu.Lock()
		p.byToken, p.bySlug = map[string]*store.Tenant{}, map[string]*store.Tenant{}
		p.pnp = nil
		p.tokMu.Unlock()
		p.cache.dropTenant(c.Tenant)
	case store.KindDepartment, store.KindSetting, store.KindFirmware, store.KindFlex:
		p.cache.dropTenant(c.Tenant)
	case store.KindTemplate:
		p.renderer.Drop()
		p.cache.dropAll()
	case store.KindUser:
		p.cache.dropUser(c.Tenant, c.ID)
	case store.KindExtension:
		for _, v := range []any{c.Old, c.New} {
			if e, ok := v.(store.Extension); ok && e.UserID != "" {
				p.cache.dropUser(c.Tenant, e.UserID)
			}
		}
	case store.KindPhone:
		p.cache.dropPhone(c.ID)
	case store.KindDeviceCA:
		p.trust.drop(c.Tenant)
	}
}

// DropTemplates makes the next render read the override directory again (after
// an admin stored or removed a template file).
func (p *Provisioner) DropTemplates() {
	p.renderer.Drop()
	p.cache.dropAll()
}

// tenantByToken reads by key once, then from memory until a tenant changes.
// The tenant is shared: callers read it, never change it.
func (p *Provisioner) tenantByToken(token string) (*store.Tenant, bool) {
	p.tokMu.RLock()
	t, ok := p.byToken[token] // only checked tokens are ever put here
	p.tokMu.RUnlock()
	if ok {
		return t, true
	}
	if !safeToken(token, 128) {
		return nil, false
	}
	st, err := p.st.TenantByToken(token)
	if err != nil {
		return nil, false
	}
	p.tokMu.Lock()
	if len(p.byToken) > 100000 {
		p.byToken = map[string]*store.Tenant{}
	}
	p.byToken[token] = &st
	p.tokMu.Unlock()
	return &st, true
}

// firmwarePath is where a tenant's firmware file lives on disk.
func (p *Provisioner) firmwarePath(slug, name string) (string, error) {
	if p.cfg.DataDir == "" || !safeFileName(name) || !safeToken(slug, 64) {
		return "", fs.ErrNotExist
	}
	return filepath.Join(p.cfg.DataDir, "firmware", slug, name), nil
}

// provisioningURL is the tenant's base in configs: https:// when the tenant refuses its
// phones' own files over plain HTTP and HTTPS is on.
func (p *Provisioner) provisioningURL(t store.Tenant) string {
	return fmt.Sprintf("%s/p/%s/", p.baseURL(t), t.ProvisioningToken)
}

func (p *Provisioner) baseURL(t store.Tenant) string {
	if p.httpsOnly(t) {
		return p.cfg.SecureBaseURL
	}
	return p.cfg.BaseURL
}

// httpsOnly: the tenant wants secrets over HTTPS only and HTTPS is on.
func (p *Provisioner) httpsOnly(t store.Tenant) bool {
	return t.ProvisioningHTTPSOnly && p.cfg.SecureBaseURL != ""
}

// trustedCA is the CA written into the tenant's configs.
func (p *Provisioner) trustedCA(t store.Tenant) TrustedCA {
	if len(p.cfg.CAPEM) == 0 {
		return TrustedCA{}
	}
	return TrustedCA{URL: p.cfg.BaseURL + "/ca.pem", PEM: string(p.cfg.CAPEM), Verify: p.httpsOnly(t)}
}
