package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"

	"github.com/dialtone/dialtone/internal/digest"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// verdict is the outcome of checking a request's credentials.
type verdict uint8

const (
	authOK        verdict = iota
	authChallenge         // no usable credentials: send a challenge
	authStale             // our nonce, expired: challenge with stale=true (RFC 7616 §3.3)
	authFailed            // wrong user or password over our nonce: 403, counted against the source
	authReplay            // nc reused: a retransmission or a replay
)

// writeChallenge answers with 401 (or 407 when proxy is set) carrying one challenge per
// algorithm the tenant offers this client (digestOffer), in its order, all with one
// fresh nonce and qop=auth (RFC 3261 §22.1, RFC 7616 §3.3, RFC 8760 §2.4).
func (s *Server) writeChallenge(w *replyWriter, proxy bool, t *tenantInfo, stale bool) {
	realm := t.realm
	name, code, reason := "WWW-Authenticate", 401, "Unauthorized"
	if proxy {
		name, code, reason = "Proxy-Authenticate", 407, "Proxy Authentication Required"
	}
	// A retransmitted request gets the nonce its original got (retransmit.go).
	key := w.transactionKey(s.challenges)
	nonce := s.challenges.nonceFor(key, realm, w.src.Addr(), s.nonces)
	w.status(code, reason)
	for _, alg := range t.digestOffer(w.userAgent) {
		w.b = append(w.b, name...)
		w.b = append(w.b, `: Digest realm="`...)
		w.b = append(w.b, realm...)
		w.b = append(w.b, `", nonce="`...)
		w.b = append(w.b, nonce[:]...)
		w.b = append(w.b, `", algorithm=`...)
		w.b = append(w.b, alg...)
		w.b = append(w.b, `, qop="auth"`...)
		if stale {
			w.b = append(w.b, `, stale=true`...)
		}
		w.b = append(w.b, "\r\n"...)
	}
}

// credentialsFor finds the request's credentials for realm (RFC 3261 §22.4: one
// Authorization header per realm; pick ours) and reports whether there were any.
func credentialsFor(req *sip.Request, proxy bool, realm string, c *digest.Credentials) bool {
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), name) {
			continue
		}
		if digest.ParseCredentials(h.Value(), c) && strings.EqualFold(c.Realm, realm) {
			return true
		}
	}
	return false
}

// authenticate checks the digest credentials of req, received from src, against tenant
// t. Only a digest over a nonce we sent to src, and that verifies as ours, can be a
// failed password (authFailed, counted against the source): credentials without qop,
// malformed ones, and forged, foreign or stale nonces earn a challenge and count
// nothing, since anyone can send those from any address.
func (s *Server) authenticate(req *sip.Request, src netip.Addr, proxy bool, t *tenantInfo) (verdict, *credential) {
	var c digest.Credentials
	if !credentialsFor(req, proxy, t.realm, &c) || c.Username == "" || c.Response == "" {
		return authChallenge, nil
	}
	var alg string
	switch {
	case c.Algorithm == "" || strings.EqualFold(c.Algorithm, "MD5"):
		alg = "MD5"
	case strings.EqualFold(c.Algorithm, "SHA-256"):
		alg = "SHA-256"
	default:
		return authChallenge, nil // an algorithm we did not offer
	}
	if !slices.Contains(t.digestOffer(func() string { return userAgent(req) }), alg) {
		return authChallenge, nil // not offered to this client: answer what was
	}
	// RFC 7616 §3.4: we offered qop=auth only; an answer without it carries no nc to
	// protect against replay and proves nothing: challenged again, not counted.
	if !strings.EqualFold(c.QOP, "auth") || c.Cnonce == "" || c.Nc <= 0 {
		return authChallenge, nil
	}
	cred, err := s.accounts.credential(c.Username)
	known := err == nil && cred.Tenant == t.slug
	ha1 := dummyHA1(alg)
	if known {
		ha1 = cred.ha1MD5
		if alg == "SHA-256" {
			ha1 = cred.ha1SHA256
		}
	}
	var want [64]byte
	n := responseDigest(want[:0], alg, ha1, c.Nonce, uint32(c.Nc), c.Cnonce, string(req.Method), c.URI)
	good := equalHexFold(want[:n], c.Response)
	// Check the nonce after the digest so that unknown users and wrong passwords take
	// the same path and the same time (an unknown user must look like a wrong password).
	switch s.nonces.Check(c.Nonce, t.realm, src, uint32(c.Nc), good && known) {
	case digest.Invalid:
		return authChallenge, nil
	case digest.Stale:
		return authStale, nil
	case digest.Replay:
		if good && known {
			return authReplay, cred
		}
		return authFailed, nil
	}
	if !good || !known {
		return authFailed, nil
	}
	return authOK, cred
}

// digestOffers are the challenges of each sip_digest value (store.SIPDigests), in order.
var digestOffers = map[string][]string{
	"md5":         {"MD5"},
	"md5,sha-256": {"MD5", "SHA-256"},
	"sha-256,md5": {"SHA-256", "MD5"},
	"sha-256":     {"SHA-256"},
}

// offerOf gives the challenges of a sip_digest value; "" (or anything the store would
// not have taken) is the default, MD5 first.
func offerOf(v string) []string {
	if a, ok := digestOffers[v]; ok {
		return a
	}
	return digestOffers[store.DefaultSIPDigest]
}

// digestOffer is what the tenant offers the client whose User-Agent ua gives: the model
// profile's sip_digest when the tenant set one for the model the User-Agent names
// (provision.ParseUserAgent, the detection provisioning uses), else the tenant's. The
// User-Agent is read only when the tenant has such an override.
func (t *tenantInfo) digestOffer(ua func() string) []string {
	if len(t.modelDigest) == 0 {
		return t.digest
	}
	u := provision.ParseUserAgent(ua())
	if u.Model == "" {
		return t.digest
	}
	if a, ok := t.modelDigest[modelKey(string(u.Make), u.Model)]; ok {
		return a
	}
	return t.digest
}

// modelKey names a model as the store's model profiles do (make lower, model upper).
func modelKey(mk, model string) string {
	return strings.ToLower(mk) + "/" + strings.ToUpper(model)
}

// userAgent is the User-Agent of the request w answers.
func (w *replyWriter) userAgent() string {
	if w.req == nil {
		return ""
	}
	return userAgent(w.req)
}

func userAgent(req *sip.Request) string {
	if h := firstHeader(req, "User-Agent"); h != nil {
		return h.Value()
	}
	return ""
}

var (
	dummyMD5    = strings.Repeat("0", 32)
	dummySHA256 = strings.Repeat("0", 64)
)

func dummyHA1(alg string) string {
	if alg == "SHA-256" {
		return dummySHA256
	}
	return dummyMD5
}

// responseDigest appends the expected qop=auth response in lower-case hex to dst:
// H(HA1:nonce:nc:cnonce:auth:H(method:uri)) (RFC 7616 §3.4.1, RFC 2617 §3.2.2.1).
func responseDigest(dst []byte, alg, ha1, nonce string, nc uint32, cnonce, method, uri string) int {
	var buf [512]byte
	b := append(buf[:0], method...)
	b = append(b, ':')
	b = append(b, uri...)
	var ha2 [64]byte
	n := hashHex(ha2[:], alg, b)
	b = append(buf[:0], ha1...)
	b = append(b, ':')
	b = append(b, nonce...)
	b = append(b, ':')
	var ncb [8]byte
	hexNC(ncb[:], nc)
	b = append(b, ncb[:]...)
	b = append(b, ':')
	b = append(b, cnonce...)
	b = append(b, ":auth:"...)
	b = append(b, ha2[:n]...)
	dst = dst[:cap(dst)]
	return hashHex(dst, alg, b)
}

func hashHex(dst []byte, alg string, data []byte) int {
	if alg == "SHA-256" {
		sum := sha256.Sum256(data)
		return hex.Encode(dst, sum[:])
	}
	sum := md5.Sum(data)
	return hex.Encode(dst, sum[:])
}

func hexNC(dst []byte, nc uint32) {
	const digits = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		dst[i] = digits[nc&0xf]
		nc >>= 4
	}
}

// firstHeader returns the first header named name (case-insensitive; no compact form),
// without the allocation sipgo's GetHeader makes lower-casing the names it passes.
func firstHeader(req *sip.Request, name string) sip.Header {
	for _, h := range req.Headers() {
		if strings.EqualFold(h.Name(), name) {
			return h
		}
	}
	return nil
}

// equalHexFold compares a lower-case hex digest with a client's, ignoring the client's
// case, in constant time for a given length.
func equalHexFold(want []byte, got string) bool {
	if len(got) != len(want) {
		return false
	}
	var diff byte
	for i := 0; i < len(want); i++ {
		c := got[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		diff |= c ^ want[i]
	}
	return subtle.ConstantTimeByteEq(diff, 0) == 1
}
