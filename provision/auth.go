package provision

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/netip"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/digest"
	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
)

// Per-phone HTTP Digest credentials (RFC 7616) for tenants with provisioning_auth
// "digest". The user name is the phone's MAC (12 lower-case hex), the password the
// phone's own, written into its config. A phone's own file (its lines, SIP and admin
// passwords) is served without credentials once, so a factory-new phone learns them;
// from then on — and over TFTP, which has no authentication — it needs them:
//
//   - credentials for this MAC that prove its current password: served; the first such
//     fetch after a rotation retires the previous password;
//   - its previous password (after POST …/provisioning-credentials): served, so the
//     phone picks up the new one;
//   - none, and the credentials were never handed out: served once (recorded in the
//     store before the answer, so two racing fetches cannot both get it);
//   - anything else: 401 with a challenge for SHA-256 and MD5 (RFC 7616 §3.7: preferred
//     first), stale=true when only the nonce had expired (§3.3).
//
// Wrong credentials count as strikes on the source; too many block it (429).

const (
	authFailLimit  = 10
	authFailWindow = time.Minute
	authFailBlock  = 10 * time.Minute
	// nonceSlots bounds the nc replay window (8 bytes a slot).
	nonceSlots = 1 << 14
)

func newAuthFails(now func() time.Time) *ratelimit.Strikes[netip.Addr] {
	return ratelimit.NewStrikes[netip.Addr](ratelimit.Policy{Limit: authFailLimit, Window: authFailWindow,
		Block: authFailBlock, MaxKeys: 65536, Name: "provision-auth"}, now)
}

func newProvNonces(now func() time.Time) *digest.Nonces { return digest.NewNonces(now, nonceSlots) }

func digestRealm(t *store.Tenant) string { return "provisioning@" + t.Slug }

// challenge is a 401 answer asking for the phone's Digest credentials, with nonces bound
// to the address the request came from.
func (p *Provisioner) challenge(t *store.Tenant, r fetchRequest, stale bool) fetchResult {
	realm := digestRealm(t)
	var ch []string
	for _, alg := range []string{"SHA-256", "MD5"} {
		var n [digest.NonceLen]byte
		p.nonces.MintTo(&n, realm, r.Addr)
		v := `Digest realm="` + realm + `", qop="auth", algorithm=` + alg + `, nonce="` + string(n[:]) + `"`
		if stale {
			v += ", stale=true"
		}
		ch = append(ch, v)
	}
	return fetchResult{Status: 401, Challenge: ch}
}

// authorizePhone decides whether a file of phone mac that carries its secrets (or its
// phonebook) may be served. issue says whether this file hands out the credentials, so
// a fetch without them may be the phone's one open fetch.
func (p *Provisioner) authorizePhone(t *store.Tenant, mac string, r fetchRequest, issue bool) (fetchResult, bool) {
	if t.ProvisioningAuth != store.ProvisioningDigest {
		return fetchResult{}, true
	}
	ph, err := p.st.Phone(mac)
	if err != nil {
		p.log.Error("phone lookup", "mac", mac, "err", err)
		return failed, false
	}
	if r.Auth != "" {
		return p.checkDigest(t, ph, r)
	}
	if issue && ph.ProvisioningIssued.IsZero() {
		var first bool
		err := p.st.Update(func(tx *store.Tx) error {
			var err error
			first, err = tx.IssueProvisioningCredentials(mac)
			return err
		})
		if err != nil {
			p.log.Error("issue provisioning credentials", "mac", mac, "err", err)
			return failed, false
		}
		if first {
			p.log.Info("provisioning credentials handed out without credentials (first fetch)", "tenant", t.Slug, "mac", mac, "proto", r.Proto)
			return fetchResult{}, true
		}
	}
	if r.Proto == "tftp" {
		return fetchResult{Status: 401}, false // TFTP cannot authenticate: refused
	}
	return p.challenge(t, r, false), false
}

func (p *Provisioner) checkDigest(t *store.Tenant, ph store.Phone, r fetchRequest) (fetchResult, bool) {
	c, ok := parseDigest(r.Auth)
	realm := digestRealm(t)
	if !ok || c.Username != ph.MAC || c.Realm != realm || c.URI != r.URI || !strings.EqualFold(c.QOP, "auth") ||
		c.Nc == 0 || c.Cnonce == "" {
		return p.authFailed(t, r, ph.MAC)
	}
	newHash := hashFor(c.Algorithm)
	if newHash == nil {
		return p.authFailed(t, r, ph.MAC)
	}
	cur, prev, err := p.st.ProvisioningPasswords(ph)
	if err != nil {
		p.log.Error("provisioning password", "mac", ph.MAC, "err", err)
		return failed, false
	}
	method := r.Method
	if method == "" {
		method = "GET"
	}
	proved := ""
	for _, pw := range []string{cur, prev} {
		if pw != "" && digestMatches(newHash, c, realm, pw, method) {
			proved = pw
			break
		}
	}
	switch p.nonces.Check(c.Nonce, realm, r.Addr, uint32(c.Nc), proved != "") {
	case digest.Stale:
		return p.challenge(t, r, true), false
	case digest.OK:
	default:
		if proved == "" {
			return p.authFailed(t, r, ph.MAC)
		}
		return p.challenge(t, r, false), false // a replayed nc: ask again
	}
	if proved == "" {
		return p.authFailed(t, r, ph.MAC)
	}
	if proved == cur && (ph.ProvisioningAuthenticated.IsZero() || ph.ProvisioningPrevious != "") {
		if err := p.st.Update(func(tx *store.Tx) error { return tx.ProvisioningProven(ph.MAC) }); err != nil {
			p.log.Error("provisioning credentials proven", "mac", ph.MAC, "err", err)
			return failed, false
		}
	}
	return fetchResult{}, true
}

func (p *Provisioner) authFailed(t *store.Tenant, r fetchRequest, mac string) (fetchResult, bool) {
	p.strike(t, r, mac)
	return p.challenge(t, r, false), false
}

// strike counts wrong credentials against the source and logs the fetch as 401.
func (p *Provisioner) strike(t *store.Tenant, r fetchRequest, mac string) {
	if p.authFails.Strike(ratelimit.Source(r.Addr)) {
		p.log.Warn("provisioning: too many wrong credentials, source blocked", "tenant", t.Slug, "addr", r.Addr.String(),
			"for", authFailBlock.String())
	}
	p.events.add(fetchEvent{tenant: t.Slug, addr: r.Addr, entry: p.entry(r, mac, "", "", "", 401, 0)})
}

func hashFor(alg string) func() hash.Hash {
	switch {
	case alg == "" || strings.EqualFold(alg, "MD5"):
		return md5.New
	case strings.EqualFold(alg, "SHA-256"):
		return sha256.New
	}
	return nil
}

// digestMatches computes the qop=auth response (RFC 7616 §3.4.1) and compares it in
// constant time.
func digestMatches(newHash func() hash.Hash, c digest.Credentials, realm, password, method string) bool {
	h := func(parts ...string) string {
		x := newHash()
		x.Write([]byte(strings.Join(parts, ":")))
		return hex.EncodeToString(x.Sum(nil))
	}
	ha1 := h(c.Username, realm, password)
	ha2 := h(method, c.URI)
	want := h(ha1, c.Nonce, c.NcText, c.Cnonce, c.QOP, ha2)
	return subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(c.Response))) == 1
}

// parseDigest reads an Authorization: Digest header with the parser SIP uses
// (internal/digest); an HTTP answer must carry username, nonce and response and an nc of
// 8 hex digits (RFC 7616 §3.4).
func parseDigest(s string) (digest.Credentials, bool) {
	var c digest.Credentials
	ok := len(s) <= 4096 && digest.ParseCredentials(s, &c) && len(c.NcText) == 8
	return c, ok && c.Username != "" && c.Nonce != "" && c.Response != ""
}

// phonebookAccount checks HTTP Basic credentials (RFC 7617) against the tenant's
// phonebook account: user "phonebook" or its bind DN, and its LDAP password. A tenant
// whose phonebook account binds to LDAP over TLS only (ldap_phonebook_cleartext off)
// takes that password over HTTPS only: plain HTTP is refused before it is looked at.
func (p *Provisioner) phonebookAccount(t *store.Tenant, r fetchRequest) (fetchResult, bool) {
	basic := fetchResult{Status: 401, Challenge: []string{`Basic realm="phonebook@` + t.Slug + `", charset="UTF-8"`}}
	if r.Proto == "tftp" {
		return notFound, false
	}
	if r.Proto != "https" && !t.LDAPPhonebookCleartext() {
		return fetchResult{Status: 403, Message: "the phonebook account's password is taken over https:// only (ldap_phonebook_cleartext is off)"}, false
	}
	scheme, enc, ok := strings.Cut(strings.TrimSpace(r.Auth), " ")
	if r.Auth == "" || !ok || !strings.EqualFold(scheme, "Basic") {
		return basic, false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	user, pass, ok := strings.Cut(string(raw), ":")
	want, err2 := p.st.PhonebookPassword(*t)
	if err2 != nil {
		p.log.Error("phonebook password", "tenant", t.Slug, "err", err2)
		return failed, false
	}
	userOK := strings.EqualFold(user, "phonebook") || strings.EqualFold(user, "cn=phonebook,o="+t.Slug+",dc=dialtone")
	if err != nil || !ok || !userOK || subtle.ConstantTimeCompare([]byte(pass), []byte(want)) != 1 {
		p.strike(t, r, "")
		return basic, false
	}
	return fetchResult{}, true
}
