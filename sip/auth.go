package sip

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
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
	nonce := s.challenges.nonceFor(key, func() string { return s.nonces.Mint(realm) })
	w.status(code, reason)
	for _, alg := range s.algorithmsFor(w.req) {
		w.b = append(w.b, name...)
		w.b = append(w.b, `: Digest realm="`...)
		w.b = append(w.b, realm...)
		w.b = append(w.b, `", nonce="`...)
		w.b = append(w.b, nonce...)
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
// Authorization header per realm; pick ours).
func credentialsFor(req *sip.Request, proxy bool, realm string) *digest.Credentials {
	name := "Authorization"
	if proxy {
		name = "Proxy-Authorization"
	}
	for _, h := range req.GetHeaders(name) {
		c, err := digest.ParseCredentials(h.Value())
		if err != nil {
			continue
		}
		if strings.EqualFold(c.Realm, realm) {
			return c
		}
	}
	return nil
}

// authenticate checks the digest credentials of req against tenant t.
func (s *Server) authenticate(req *sip.Request, proxy bool, t *tenantInfo) (verdict, *credential) {
	c := credentialsFor(req, proxy, t.realm)
	if c == nil || c.Username == "" || c.Response == "" {
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
	good := subtle.ConstantTimeCompare(want[:n], []byte(strings.ToLower(c.Response))) == 1
	// Check the nonce after the digest so that unknown users and wrong passwords take
	// the same path and the same time (an unknown user must look like a wrong password).
	switch s.nonces.Check(c.Nonce, t.realm, uint32(c.Nc), good && known) {
	case nonceInvalid:
		return authChallenge, nil
	case nonceStale:
		return authStale, nil
	case nonceReplay:
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

// md5FirstAgents are clients verified to read only the first challenge of a 401 and to
// refuse SHA-256 instead of picking the next one (RFC 8760 §2.4 asks them to pick the
// first they support): SIPp 3.6 takes the first "algorithm=" of the WWW-Authenticate
// headers and stops with "createAuthHeader: authentication must use MD5 or AKAv1-MD5".
// They get the same two challenges with MD5 first; every other client gets SHA-256 first.
var md5FirstAgents = []string{"sipp"}

// algorithmsFor orders the offered algorithms for the client that sent req.
func (s *Server) algorithmsFor(req *sip.Request) []string {
	if len(s.algorithms) < 2 || s.algorithms[0] != "SHA-256" || req == nil {
		return s.algorithms
	}
	h := req.GetHeader("User-Agent")
	if h == nil {
		return s.algorithms
	}
	ua := h.Value()
	for _, a := range md5FirstAgents {
		if len(ua) >= len(a) && strings.EqualFold(ua[:len(a)], a) {
			return md5First
		}
	}
	return s.algorithms
}

var md5First = []string{"MD5", "SHA-256"}

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
