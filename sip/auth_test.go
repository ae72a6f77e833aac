package sip

import (
	"testing"

	dtdigest "github.com/dialtone/dialtone/internal/digest"
	"github.com/icholy/digest"
)

// TestParseDigestCredentials: the parser reads what clients send as icholy/digest does.
func TestParseDigestCredentials(t *testing.T) {
	t.Parallel()
	ok := []string{
		`Digest username="201", realm="acme.example", nonce="abc", uri="sip:acme.example", response="0123abcd", algorithm=MD5, cnonce="xyz", qop=auth, nc=00000001`,
		`Digest username="a\"b",realm="r",nonce="n",uri="sip:r",response="f",cnonce="c",qop=auth,nc=0000000a,algorithm=SHA-256,opaque="o"`,
		`Digest  username="u" , realm="r" , nonce="n", uri="sip:r;transport=udp", response="ff", qop="auth", nc=1, cnonce="c", userhash=true`,
		`digest username="u", realm="", nonce="n", uri="sip:r", response="ff", unknown-param=token, other="x,y"`,
	}
	for _, h := range ok {
		var c dtdigest.Credentials
		if !dtdigest.ParseCredentials(h, &c) {
			t.Errorf("refused %s", h)
			continue
		}
		want, err := digest.ParseCredentials(h)
		if err != nil {
			t.Fatalf("icholy/digest refuses %s: %v", h, err)
		}
		got := digest.Credentials{Username: c.Username, Realm: c.Realm, Nonce: c.Nonce, URI: c.URI, Response: c.Response,
			Algorithm: c.Algorithm, Cnonce: c.Cnonce, Opaque: c.Opaque, QOP: c.QOP, Nc: c.Nc, Userhash: c.Userhash}
		if got != *want {
			t.Errorf("%s:\n got %+v\nwant %+v", h, got, *want)
		}
	}
	// Tabs are linear white space too (RFC 3261 §25.1); icholy/digest does not skip them.
	var c dtdigest.Credentials
	if !dtdigest.ParseCredentials("Digest\tusername=\"u\",\trealm = \"r\",\tnc=2", &c) || c.Username != "u" || c.Realm != "r" || c.Nc != 2 {
		t.Errorf("tabs: %+v", c)
	}
	for _, h := range []string{
		``, `Digest`, `Basic dXNlcjpwYXNz`, `Digestusername="u"`, `Digest username="u`, `Digest username=`,
		`Digest =x`, `Digest username="u" realm="r"`, `Digest nc=zz`, `Digest nc=123456789`, `Digest nc=1, nc=2`,
		`Digest username="u\`,
	} {
		var c dtdigest.Credentials
		if dtdigest.ParseCredentials(h, &c) {
			t.Errorf("accepted %q as %+v", h, c)
		}
	}
}

func FuzzParseDigestCredentials(f *testing.F) {
	f.Add(`Digest username="201", realm="acme.example", nonce="abc", uri="sip:acme.example", response="0123abcd", qop=auth, nc=00000001, cnonce="x"`)
	f.Add(`Digest username="a\"b",nc=ffffffff`)
	f.Fuzz(func(t *testing.T, h string) {
		var c dtdigest.Credentials
		if dtdigest.ParseCredentials(h, &c) && c.Nc < 0 {
			t.Fatalf("negative nc from %q", h)
		}
	})
}
