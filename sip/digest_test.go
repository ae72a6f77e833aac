package sip

import (
	"slices"
	"testing"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// algorithmsOf lists the algorithms of a challenge's headers, in order.
func algorithmsOf(t *testing.T, res *sip.Response) []string {
	t.Helper()
	if res == nil || res.StatusCode != 401 {
		t.Fatalf("no challenge: %v", res)
	}
	var out []string
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		c, err := digest.ParseChallenge(h.Value())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Algorithm)
	}
	return out
}

func setDigest(t *testing.T, e *env, tenant, v string) {
	t.Helper()
	err := e.st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant(tenant)
		if err != nil {
			return err
		}
		next := prev
		next.SIPDigest = v
		return tx.SaveTenant(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDigestOffer: by default every client, whatever its User-Agent, is offered MD5
// first, then SHA-256 (a phone that reads only the first challenge and knows only MD5
// registers); the tenant's sip_digest sets the offer and refuses an algorithm it does
// not offer; a model profile's sip_digest overrides it for that model's User-Agent, at
// once.
func TestDigestOffer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uri := "sip:" + e.domain
	p := newPhone(t, e, e.user, e.pass, e.domain)
	for _, ua := range []string{"Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc", "sipp", "baresip v1.0.0 (x86_64/linux)", "PolycomVVX-VVX_450-UA/6.4.3.5018"} {
		p.ua = ua
		res := p.send(p.registerMsg(e.user, ""))
		if got := algorithmsOf(t, res); !slices.Equal(got, []string{"MD5", "SHA-256"}) {
			t.Fatalf("%q offered %v", ua, got)
		}
		// An MD5-only phone answers the first challenge.
		if res = p.send(p.registerMsg(e.user, p.authorization(res, "REGISTER", uri, "", 1))); res.StatusCode != 200 {
			t.Fatalf("%q with the first challenge: %d", ua, res.StatusCode)
		}
	}

	setDigest(t, e, "acme", "sha-256")
	p.ua = "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc"
	res := p.send(p.registerMsg(e.user, ""))
	if got := algorithmsOf(t, res); !slices.Equal(got, []string{"SHA-256"}) {
		t.Fatalf("sha-256 tenant offered %v", got)
	}
	// An MD5 answer over that nonce is not what was offered: challenged again.
	chal, _ := digest.ParseChallenge(res.GetHeader("WWW-Authenticate").Value())
	chal.Algorithm = "MD5"
	md5, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: uri, Username: e.user, Password: e.pass, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.send(p.registerMsg(e.user, "Authorization: "+md5.String())); res.StatusCode != 401 {
		t.Fatalf("MD5 answer to a sha-256 tenant: %d", res.StatusCode)
	}
	if res := p.register(e.user); res.StatusCode != 200 {
		t.Fatalf("SHA-256 register: %d", res.StatusCode)
	}

	// A model override: T46U phones get MD5 alone; others keep the tenant's.
	err = e.st.Update(func(tx *store.Tx) error {
		return tx.SaveModelProfile(store.ModelProfile{Tenant: "acme", Make: "yealink", Model: "T46U", SIPDigest: "md5"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := algorithmsOf(t, p.send(p.registerMsg(e.user, ""))); !slices.Equal(got, []string{"MD5"}) {
		t.Fatalf("T46U under a model override offered %v", got)
	}
	if res := p.register(e.user); res.StatusCode != 200 {
		t.Fatalf("T46U MD5 register: %d", res.StatusCode)
	}
	p.ua = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:cd"
	if got := algorithmsOf(t, p.send(p.registerMsg(e.user, ""))); !slices.Equal(got, []string{"SHA-256"}) {
		t.Fatalf("T54W offered %v", got)
	}
	setDigest(t, e, "acme", "")
	if got := algorithmsOf(t, p.send(p.registerMsg(e.user, ""))); !slices.Equal(got, []string{"MD5", "SHA-256"}) {
		t.Fatalf("back to the default: %v", got)
	}
}
