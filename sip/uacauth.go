package sip

import (
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// uacCredentials answers a 401 or 407 as a client does (RFC 3261 §22.2): the
// credentials for the first challenge whose algorithm we know, in the order the
// server offered them (RFC 8760 §2.4), with nc 1 on a fresh nonce (RFC 7616 §3.4). It
// gives the header to send them in (Authorization or Proxy-Authorization), its value
// and whether the challenge said stale; ok is false when res carries none we can
// answer. Every request Dialtone sends and is challenged for goes through here: a
// phone's NOTIFY, the upstream's REGISTER and a call handed to the upstream.
func uacCredentials(res *sip.Response, method, uri, username, password string) (header, value string, stale, ok bool) {
	name, header := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, header = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range res.GetHeaders(name) {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil || !digest.CanDigest(chal) {
			continue
		}
		c, err := digest.Digest(chal, digest.Options{Method: method, URI: uri,
			Username: username, Password: password, Count: 1})
		if err != nil {
			continue
		}
		return header, c.String(), chal.Stale, true
	}
	return "", "", false, false
}
