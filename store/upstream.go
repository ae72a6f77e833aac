package store

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Upstream modes: Dialtone registers to the upstream, or the upstream trusts (and is
// trusted by) IP address.
const (
	UpstreamRegister = "register"
	UpstreamIP       = "ip"
)

// UpstreamTransports are the transports an upstream is reached over.
var UpstreamTransports = []string{"udp", "tcp", "tls"}

// Bounds of Upstream.Expiry (seconds asked for in REGISTER) and Upstream.Trusted.
const (
	DefaultUpstreamExpiry = 3600
	MinUpstreamExpiry     = 60
	MaxUpstreamExpiry     = 86400
	MaxUpstreamTrusted    = 32
)

// Upstream is the SIP server a tenant hands outside calls to: a provider's trunk or an
// existing PBX. One per tenant.
type Upstream struct {
	Tenant    string `json:"tenant"`
	Mode      string `json:"mode"` // UpstreamRegister or UpstreamIP
	Host      string `json:"host"` // name or address
	Port      int    `json:"port"` // 0: 5060, or 5061 over TLS
	Transport string `json:"transport"`
	// Username and Password (sealed; Store.OpenSecret opens it) answer the upstream's
	// digest challenges, to REGISTER and to calls.
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Domain is the From/To host the upstream expects ("": Host).
	Domain string `json:"domain,omitempty"`
	// Trusted are the addresses or prefixes (CIDR) inbound calls are accepted from in
	// ip mode ("": the addresses Host resolves to). No two tenants' overlap.
	Trusted []string `json:"trusted,omitempty"`
	// Expiry is the registration time asked for, in seconds (0: DefaultUpstreamExpiry).
	Expiry  int       `json:"expiry,omitempty"`
	Updated time.Time `json:"updated"`
}

// Addr is the upstream's port, the transport's default when none is set.
func (u Upstream) Addr() (host string, port int) {
	port = u.Port
	if port == 0 {
		port = 5060
		if u.Transport == "tls" {
			port = 5061
		}
	}
	return u.Host, port
}

// RegisterExpiry is the registration time asked for, or the default.
func (u Upstream) RegisterExpiry() time.Duration {
	if u.Expiry == 0 {
		return DefaultUpstreamExpiry * time.Second
	}
	return time.Duration(u.Expiry) * time.Second
}

// SIPDomain is the From/To host the upstream expects.
func (u Upstream) SIPDomain() string {
	if u.Domain != "" {
		return u.Domain
	}
	return u.Host
}

// TrustedPrefixes parses Trusted (checked when saved; a bad one is skipped).
func (u Upstream) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range u.Trusted {
		if p, err := parseTrusted(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseTrusted(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return p, errors.New("an IPv4-mapped prefix shorter than /96")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func upstreamKey(slug string) string { return "t/" + slug + "/upstream" }

// UpstreamSecret is the password change of SaveUpstream: Keep the stored one, or Set
// this one ("" clears it).
type UpstreamSecret struct {
	Keep bool
	Set  string
}

func (tx *Tx) checkUpstream(u *Upstream, hasPassword bool) error {
	switch u.Mode {
	case UpstreamRegister, UpstreamIP:
	default:
		return invalid("mode", "register (Dialtone registers with username and password) or ip (trusted by address)")
	}
	u.Host = strings.ToLower(strings.TrimSpace(u.Host))
	if a, err := netip.ParseAddr(u.Host); err == nil {
		if a.Zone() != "" || a.IsUnspecified() || a.IsMulticast() {
			return invalid("host", "%q: not an address to send calls to", u.Host)
		}
	} else if !validDomain(u.Host) {
		return invalid("host", "a host name or IP address")
	}
	if u.Port < 0 || u.Port > 65535 {
		return invalid("port", "1 to 65535 (0: 5060, 5061 over TLS)")
	}
	u.Transport = strings.ToLower(strings.TrimSpace(u.Transport))
	if u.Transport == "" {
		u.Transport = "udp"
	}
	if !slices.Contains(UpstreamTransports, u.Transport) {
		return invalid("transport", "%q: one of udp, tcp, tls", u.Transport)
	}
	u.Domain = strings.ToLower(strings.TrimSpace(u.Domain))
	if u.Domain != "" && !validDomain(u.Domain) {
		if _, err := netip.ParseAddr(u.Domain); err != nil {
			return invalid("domain", "a host name or IP address")
		}
	}
	if len(u.Username) > 64 || strings.ContainsAny(u.Username, " \t\r\n\"\\<>@:;,\x00") {
		return invalid("username", "up to 64 characters, no spaces, quotes, or any of <>@:;,")
	}
	if u.Mode == UpstreamRegister && (u.Username == "" || !hasPassword) {
		return invalid("username", "registering needs a username and a password")
	}
	if u.Expiry != 0 && (u.Expiry < MinUpstreamExpiry || u.Expiry > MaxUpstreamExpiry) {
		return invalid("expiry", "seconds from %d to %d (0: %d)", MinUpstreamExpiry, MaxUpstreamExpiry, DefaultUpstreamExpiry)
	}
	if len(u.Trusted) > MaxUpstreamTrusted {
		return invalid("trusted", "at most %d addresses or prefixes", MaxUpstreamTrusted)
	}
	if u.Mode == UpstreamRegister && len(u.Trusted) > 0 {
		return invalid("trusted", "a registered upstream is trusted over its registration; trusted addresses are for ip mode")
	}
	mine := make([]netip.Prefix, 0, len(u.Trusted))
	for i, s := range u.Trusted {
		p, err := parseTrusted(s)
		if err != nil || p.Addr().Zone() != "" {
			return invalid("trusted", "%q: an IP address or a prefix in CIDR form, e.g. 203.0.113.0/28", s)
		}
		if p.Bits() < p.Addr().BitLen()/2 {
			return invalid("trusted", "%q: too wide a prefix to trust (at least /%d)", s, p.Addr().BitLen()/2)
		}
		u.Trusted[i] = p.String()
		mine = append(mine, p)
	}
	others, err := tx.Upstreams()
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.Tenant == u.Tenant {
			continue
		}
		for _, theirs := range o.TrustedPrefixes() {
			for _, p := range mine {
				if p.Overlaps(theirs) {
					return conflict("trusted", "%s overlaps the upstream of another tenant", p)
				}
			}
		}
	}
	return nil
}

// SaveUpstream creates or replaces the tenant's upstream; the password is sealed.
func (tx *Tx) SaveUpstream(slug string, u Upstream, pw UpstreamSecret) (Upstream, error) {
	if _, err := tx.Tenant(slug); err != nil {
		return Upstream{}, err
	}
	prev, err := tx.Upstream(slug)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Upstream{}, err
	}
	exists := err == nil
	u.Tenant = slug
	if pw.Keep {
		u.Password = prev.Password
	} else {
		if len(pw.Set) > 128 || strings.ContainsAny(pw.Set, "\r\n\x00") {
			return Upstream{}, invalid("password", "up to 128 characters, no line breaks")
		}
		u.Password = ""
		if pw.Set != "" {
			u.Password = tx.s.secrets.Seal(pw.Set)
		}
	}
	if err := tx.checkUpstream(&u, u.Password != ""); err != nil {
		return Upstream{}, err
	}
	u.Updated = tx.s.now().UTC()
	if err := tx.put(upstreamKey(slug), u); err != nil {
		return Upstream{}, err
	}
	c := Change{Kind: KindUpstream, Op: OpPut, Tenant: slug, ID: slug, New: u}
	if exists {
		c.Old = prev
	}
	tx.Emit(c)
	return u, nil
}

// DeleteUpstream removes the tenant's upstream (ErrNotFound when it has none).
func (tx *Tx) DeleteUpstream(slug string) (Upstream, error) {
	prev, err := tx.Upstream(slug)
	if err != nil {
		return prev, err
	}
	if err := tx.del(upstreamKey(slug)); err != nil {
		return prev, err
	}
	tx.Emit(Change{Kind: KindUpstream, Op: OpDelete, Tenant: slug, ID: slug, Old: prev})
	return prev, nil
}

// Upstream reads the tenant's upstream.
func (tx *Tx) Upstream(slug string) (Upstream, error) {
	var u Upstream
	err := tx.get(upstreamKey(slug), &u)
	return u, err
}

// Upstreams lists every tenant's upstream.
func (tx *Tx) Upstreams() ([]Upstream, error) {
	ts, err := tx.Tenants("", 0)
	if err != nil {
		return nil, err
	}
	var out []Upstream
	for _, t := range ts {
		switch u, err := tx.Upstream(t.Slug); {
		case err == nil:
			out = append(out, u)
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// Upstream reads the tenant's upstream.
func (s *Store) Upstream(slug string) (u Upstream, err error) {
	err = s.View(func(tx *Tx) error { u, err = tx.Upstream(slug); return err })
	return u, err
}

// Upstreams lists every tenant's upstream.
func (s *Store) Upstreams() (us []Upstream, err error) {
	err = s.View(func(tx *Tx) error { us, err = tx.Upstreams(); return err })
	return us, err
}
