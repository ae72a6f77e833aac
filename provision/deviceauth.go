package provision

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/store"
)

// Device certificates: every make ships its phones with a factory certificate signed
// by the vendor's CA, naming the phone's MAC in its subject. The HTTPS listener asks
// for one (never requires it at the TLS layer, so phones without one still connect;
// the TLS layer has checked the phone holds the key, RFC 8446 section 4.4.3), and
// deviceCheck decides, per the tenant's device_auth, whether a phone's own file (the
// one that carries its SIP, LDAP and admin passwords) may be served.

// Device-certificate outcomes, as the provisioning log shows them (entry.Device).
const (
	deviceVerified = "verified" // chains to a trusted vendor CA and names the file's MAC
	deviceMissing  = "missing"  // no certificate (or no TLS): served under prefer
	deviceRefused  = "refused"  // refused: Reason says why
)

// deviceVerdict is what the check found.
type deviceVerdict struct {
	ok     bool   // serve the file
	device string // deviceVerified, deviceMissing, deviceRefused; "" when device_auth is off
	reason string // for the log: why refused, whose certificate, or what was missing
}

// deviceCheck checks a fetch of mac's own file against the tenant's device_auth.
func (p *Provisioner) deviceCheck(t *store.Tenant, mac string, r fetchRequest) deviceVerdict {
	mode := t.DeviceAuthMode()
	if mode == store.DeviceAuthOff {
		return deviceVerdict{ok: true}
	}
	missing := func(why string) deviceVerdict {
		if mode == store.DeviceAuthRequire {
			return deviceVerdict{device: deviceRefused, reason: why + " (device_auth require)"}
		}
		return deviceVerdict{ok: true, device: deviceMissing, reason: why}
	}
	refused := func(why string) deviceVerdict { return deviceVerdict{device: deviceRefused, reason: why} }
	switch {
	case r.Proto == "tftp":
		return missing("no device certificate: TFTP cannot carry one")
	case r.Proto != "https":
		return missing("no device certificate: fetched over plain HTTP")
	case len(r.Peer) == 0:
		return missing("no device certificate: the client sent none")
	}
	leaf := r.Peer[0]
	roots, err := p.trust.pool(p.st, t.Slug)
	if err != nil {
		p.log.Error("device CAs", "tenant", t.Slug, "err", err)
		return refused("device CAs could not be read")
	}
	if roots == nil {
		return refused("no vendor CA uploaded to check the device certificate against")
	}
	if why := p.trust.verify(t.Slug, roots, r.Peer, p.cfg.Now()); why != "" {
		return refused("device certificate " + subjectCN(leaf) + " not accepted: " + why)
	}
	macs := certMACs(leaf)
	for _, m := range macs {
		if m == mac {
			return deviceVerdict{ok: true, device: deviceVerified, reason: "device certificate " + subjectCN(leaf) + " issued by " + issuerCN(leaf)}
		}
	}
	if len(macs) == 0 {
		return refused("device certificate " + subjectCN(leaf) + " names no MAC")
	}
	return refused("device certificate names MAC " + strings.Join(macs, ", ") + ", not " + mac)
}

// verifyReason says in a few words why x509 refused the chain.
func verifyReason(err error) string {
	var ua x509.UnknownAuthorityError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "not issued by a vendor CA this tenant trusts"
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return "expired or not yet valid"
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return "not for client authentication (extended key usage)"
	}
	s := err.Error()
	if len(s) > 160 {
		s = s[:160]
	}
	return s
}

func subjectCN(c *x509.Certificate) string { return quoteCN(c.Subject.CommonName) }
func issuerCN(c *x509.Certificate) string  { return quoteCN(c.Issuer.CommonName) }

// quoteCN bounds a name from a certificate before it goes into a log.
func quoteCN(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return "CN=" + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// certMACs extracts the MACs a device certificate names: 12 hex digits in any common
// notation (001565aabbcc, 00:15:65:AA:BB:CC, 00-15-65-aa-bb-cc, 0015.65aa.bbcc) in
// the subject's common name — alone (Yealink, Poly, Snom), after a prefix (Cisco's
// SEP001565AABBCC, CP-8841-SEP…) or among other words — and in the subject alternative
// names (DNS names, URIs, e-mail addresses). Each is lower-case, without separators.
func certMACs(c *x509.Certificate) []string {
	names := []string{c.Subject.CommonName}
	names = append(names, c.DNSNames...)
	names = append(names, c.EmailAddresses...)
	for _, u := range c.URIs {
		names = append(names, u.String())
	}
	var out []string
	for _, n := range names {
		for _, m := range macsIn(n) {
			dup := false
			for _, o := range out {
				dup = dup || o == m
			}
			if !dup {
				out = append(out, m)
			}
		}
	}
	return out
}

// macsIn finds the MACs in s: runs of hex digits and separators (: - .) that
// NormalizeMAC takes whole; a longer run of hex digits (a serial number) names no MAC.
// Only the first 256 bytes are looked at.
func macsIn(s string) []string {
	if len(s) > 256 {
		s = s[:256]
	}
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	var out []string
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && (isHex(s[j]) || s[j] == ':' || s[j] == '-' || s[j] == '.') {
			j++
		}
		run := strings.TrimRight(s[i:j], ":-.")
		if m, ok := NormalizeMAC(run); ok {
			out = append(out, m)
		}
		i = j
	}
	return out
}

// trustPools caches each tenant's vendor CAs as a pool, built on first use and dropped
// when the tenant's device CAs change, and the outcome of recent chain checks: one
// costs ~0.2 ms of CPU (a signature per link), and a phone on a kept-alive connection
// sends the same chain with every request.
type trustPools struct {
	mu       sync.Mutex
	gen      uint64                    // counts drops: a pool or outcome from before one is not kept
	pools    map[string]*x509.CertPool // nil value: the tenant has none
	verified map[verifyKey]verifyOutcome
}

// verifyKey is a tenant and the SHA-256 of a presented chain.
type verifyKey struct {
	slug  string
	chain [32]byte
}

type verifyOutcome struct {
	why   string // "" accepted, else why not
	until time.Time
}

const (
	maxVerified = 4096        // outcomes kept; the map starts afresh when full
	verifiedFor = time.Minute // an outcome is reused this long (never past the leaf's expiry)
)

func newTrustPools() *trustPools {
	return &trustPools{pools: map[string]*x509.CertPool{}, verified: map[verifyKey]verifyOutcome{}}
}

// verify checks chain (leaf first, then what the phone sent as intermediates) against
// roots for client authentication at now (RFC 5280 section 6; no extended key usage,
// anyExtendedKeyUsage or clientAuth pass) and says why not, or "" when it chains.
func (tp *trustPools) verify(slug string, roots *x509.CertPool, chain []*x509.Certificate, now time.Time) string {
	h := sha256.New()
	for _, c := range chain {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	k := verifyKey{slug: slug}
	h.Sum(k.chain[:0])
	tp.mu.Lock()
	o, ok := tp.verified[k]
	gen := tp.gen
	tp.mu.Unlock()
	if ok && now.Before(o.until) {
		return o.why
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	o = verifyOutcome{until: now.Add(verifiedFor)}
	if err != nil {
		o.why = verifyReason(err)
	} else if chain[0].NotAfter.Before(o.until) {
		o.until = chain[0].NotAfter
	}
	tp.mu.Lock()
	if tp.gen == gen {
		if len(tp.verified) >= maxVerified {
			tp.verified = map[verifyKey]verifyOutcome{}
		}
		tp.verified[k] = o
	}
	tp.mu.Unlock()
	return o.why
}

func (tp *trustPools) pool(st *store.Store, slug string) (*x509.CertPool, error) {
	tp.mu.Lock()
	p, ok := tp.pools[slug]
	gen := tp.gen
	tp.mu.Unlock()
	if ok {
		return p, nil
	}
	cas, err := st.DeviceCAs(slug)
	if err != nil {
		return nil, err
	}
	if len(cas) > 0 {
		p = x509.NewCertPool()
		for _, ca := range cas {
			p.AppendCertsFromPEM([]byte(ca.PEM))
		}
	}
	tp.mu.Lock()
	if tp.gen == gen {
		tp.pools[slug] = p
	}
	tp.mu.Unlock()
	return p, nil
}

func (tp *trustPools) drop(slug string) {
	tp.mu.Lock()
	tp.gen++
	tp.verified = map[verifyKey]verifyOutcome{} // outcomes against the old CAs
	if slug == "" {
		tp.pools = map[string]*x509.CertPool{}
	} else {
		delete(tp.pools, slug)
	}
	tp.mu.Unlock()
}
