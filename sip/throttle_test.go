package sip

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	dtdigest "github.com/dialtone/dialtone/internal/digest"
)

// TestForgedCredentialsDoNotBlock: a hundred datagrams with credentials that prove
// nothing (no qop, a forged nonce, a nonce fetched from another address) are challenged
// and do not block their source; the right password still registers from it; ten wrong
// passwords over nonces sent to that source still block it.
func TestForgedCredentialsDoNotBlock(t *testing.T) {
	e := newEnv(t)
	victim := newPhone(t, e, e.user, "wrong", e.domain)
	uri := "sip:" + e.domain
	// A nonce this registrar really sent, but to another address (127.0.0.2).
	c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	other := newPhone(t, e, e.user, "wrong", e.domain)
	other.c.Close()
	other.c = c2
	foreign := other.send(other.registerMsg(e.user, ""))
	if foreign == nil || foreign.StatusCode != 401 {
		t.Fatalf("challenge to the other address: %v", foreign)
	}
	// A nonce sent to the victim's own address, answered without qop.
	own := victim.send(victim.registerMsg(e.user, ""))
	ownNonce := nonceOf(t, own)
	forged := []string{
		// Without qop (RFC 2069 form) over a nonce that is ours.
		fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%032x"`,
			e.user, e.domain, ownNonce, uri, 1),
		// qop, nc and cnonce, over a nonce we never issued.
		fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%032x", qop=auth, nc=00000001, cnonce="abc", algorithm=MD5`,
			e.user, e.domain, strings.Repeat("A", dtdigest.NonceLen), uri, 2),
		// A wrong password over a nonce sent to 127.0.0.2, presented from 127.0.0.1.
		other.authorization(foreign, "REGISTER", uri, "MD5", 1),
		// Garbled.
		`Authorization: Digest username="` + e.user + `", realm="` + e.domain + `", nonce=`,
	}
	for i := range 100 {
		res := victim.send(victim.registerMsg(e.user, forged[i%len(forged)]))
		if res == nil || res.StatusCode != 401 {
			t.Fatalf("forged datagram %d (%d): %v", i, i%len(forged), res)
		}
	}
	victim.pass = e.pass
	if res := victim.register(e.user); res == nil || res.StatusCode != 200 {
		t.Fatalf("right password after forged datagrams: %v", res)
	}
	if strings.Contains(e.logs.String(), "source blocked") {
		t.Fatal("forged datagrams blocked the source")
	}
	// Real wrong passwords over our nonces still count.
	victim.pass = "wrong"
	for i := range 10 {
		if res := victim.register(e.user); res == nil || res.StatusCode != 403 {
			t.Fatalf("wrong password %d: %v", i, res)
		}
	}
	victim.pass = e.pass
	if res := victim.send(victim.registerMsg(e.user, "")); res == nil || res.StatusCode != 403 {
		t.Fatalf("source not blocked after ten wrong passwords: %v", res)
	}
}

// nonceOf reads the nonce of a challenge.
func nonceOf(t *testing.T, res *sip.Response) string {
	t.Helper()
	if res == nil || res.StatusCode != 401 {
		t.Fatalf("no challenge: %v", res)
	}
	chal, err := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	if err != nil {
		t.Fatal(err)
	}
	return chal.Nonce
}
