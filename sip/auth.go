package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/dialtone/dialtone/internal/digest"
)

// verdict is the outcome of checking a request's credentials.
type verdict uint8

const (
	authOK        verdict = iota
	authChallenge         // no usable credentials: send a challenge
	authStale             // our nonce, expired: challenge with stale=true (RFC 7616 §3.3)
	authFailed            // wrong user or password: 403, counted against the source
	authReplay            // nc reused: a retransmission or a replay
)

// Algorithms offered in challenges, in order of preference (RFC 8760 §2.4: SHA-256
// before MD5, one challenge header each).
var defaultAlgorithms = []string{"SHA-256", "MD5"}

// writeChallenge answers with 401 (or 407 when proxy is set) carrying one challenge per
// algorithm, all with one fresh nonce and qop=auth (RFC 3261 §22.1, RFC 7616 §3.3).
func (s *Server) writeChallenge(w *replyWriter, proxy bool, realm string, stale bool) {
	name, code, reason := "WWW-Authenticate", 401, "Unauthorized"
	if proxy {
		name, code, reason = "Proxy-Authenticate", 407, "Proxy Authentication Required"
	}
	// A retransmitted request gets the nonce its original got (retransmit.go).
	key := w.transactionKey(s.challenges)
	nonce := s.challenges.nonceFor(key, realm, s.nonces)
	w.status(code, reason)
	for _, alg := range s.algorithmsFor(w) {
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
func credentialsFor(req *sip.Request, proxy bool, realm string, c *digestCredentials) bool {
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), name) {
			continue
		}
		if parseDigestCredentials(h.Value(), c) && strings.EqualFold(c.Realm, realm) {
			return true
		}
	}
	return false
}

// authenticate checks the digest credentials of req against tenant t.
func (s *Server) authenticate(req *sip.Request, proxy bool, t *tenantInfo) (verdict, *credential) {
	var c digestCredentials
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
	if !s.offers(alg) {
		return authChallenge, nil
	}
	// RFC 7616 §3.4: we offered qop=auth only; answers without it carry no nc to
	// protect against replay, so they are refused like a wrong password.
	if !strings.EqualFold(c.QOP, "auth") || c.Cnonce == "" || c.Nc <= 0 {
		return authFailed, nil
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
	switch s.nonces.Check(c.Nonce, t.realm, uint32(c.Nc), good && known) {
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

// digestQuirk is how a known client copes with our two challenges (SHA-256 first, then
// MD5, as RFC 8760 §2.4 orders them: a client is to use the first it supports).
type digestQuirk uint8

const (
	quirkNone     digestQuirk = iota
	quirkMD5First             // reads only the first challenge: MD5 first, then SHA-256
	quirkMD5Only              // fails on any SHA-256 challenge in the 401: MD5 alone
)

// agentQuirk tells, from the User-Agent, the clients verified to need MD5 offered
// differently:
//
//   - SIPp 3.6 takes the first "algorithm=" of the WWW-Authenticate headers and stops
//     with "createAuthHeader: authentication must use MD5 or AKAv1-MD5" (SHA-256 came in
//     a later SIPp, SIPp/sipp#676). SIPp sends no User-Agent of its own: scenarios that
//     name it "sipp…" are matched. MD5 first.
//   - baresip before 3.11: its SIP stack (libre) learned SHA-256 digests in re 3.11
//     (baresip/re#1103); before, a 401 carrying any SHA-256 challenge fails the
//     registration with "Register: Function not implemented", whatever comes first
//     (baresip/baresip#3006; seen with baresip-core 1.0.0). MD5 alone.
//
// Offering these clients MD5 gives nothing away: every client is offered MD5 anyway.
func agentQuirk(ua string) digestQuirk {
	if hasPrefixFold(ua, "sipp") {
		return quirkMD5First
	}
	if v, ok := cutPrefixFold(ua, "baresip v"); ok {
		major, rest := leadingInt(v)
		minor := -1
		if len(rest) > 1 && rest[0] == '.' {
			minor, _ = leadingInt(rest[1:])
		}
		if major >= 0 && (major < 3 || major == 3 && minor >= 0 && minor < 11) {
			return quirkMD5Only
		}
	}
	return quirkNone
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if hasPrefixFold(s, prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// leadingInt parses the decimal digits at the start of s (-1 when there are none).
func leadingInt(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9' && i < 6; i++ {
		n = n*10 + int(s[i]-'0')
	}
	if i == 0 {
		return -1, s
	}
	return n, s[i:]
}

// algorithmsFor orders the offered algorithms for the client whose request w answers.
func (s *Server) algorithmsFor(w *replyWriter) []string {
	if len(s.algorithms) < 2 {
		return s.algorithms
	}
	ua := w.ua
	if w.req != nil {
		ua = ""
		if h := firstHeader(w.req, "User-Agent"); h != nil {
			ua = h.Value()
		}
	}
	switch agentQuirk(ua) {
	case quirkMD5First:
		return md5First
	case quirkMD5Only:
		return md5Only
	}
	return s.algorithms
}

var (
	md5First = []string{"MD5", "SHA-256"}
	md5Only  = []string{"MD5"}
)

func (s *Server) offers(alg string) bool {
	for _, a := range s.algorithms {
		if a == alg {
			return true
		}
	}
	return false
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
