package sip

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestRegisterSipgoClient registers with sipgo's client and its digest support, over
// UDP and TCP, and checks the challenge, the 200 and the listing.
func TestRegisterSipgoClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			ua, err := sipgo.NewUA(sipgo.WithUserAgent("Snom D785 10.1.54.13"))
			if err != nil {
				t.Fatal(err)
			}
			defer ua.Close()
			cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
			if err != nil {
				t.Fatal(err)
			}
			addr := e.udpAddr().String()
			if transport == "tcp" {
				addr = e.tcp.Addr().String()
			}
			req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: e.domain, UriParams: sip.HeaderParams{{K: "transport", V: transport}}})
			req.SetDestination(addr)
			req.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: e.user, Host: e.domain}})
			req.AppendHeader(&sip.FromHeader{Address: sip.Uri{User: e.user, Host: e.domain}, Params: sip.HeaderParams{{K: "tag", V: "abc"}}})
			req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: e.user, Host: "127.0.0.1", Port: 5099}})
			req.AppendHeader(sip.NewHeader("Expires", "600"))
			req.AppendHeader(sip.NewHeader("User-Agent", "Snom D785 10.1.54.13"))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			res, err := cli.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 401 {
				t.Fatalf("first answer %d, want 401", res.StatusCode)
			}
			chals := res.GetHeaders("WWW-Authenticate")
			if len(chals) != 2 || !strings.Contains(chals[0].Value(), "algorithm=MD5") ||
				!strings.Contains(chals[1].Value(), "algorithm=SHA-256") || !strings.Contains(chals[0].Value(), `qop="auth"`) ||
				!strings.Contains(chals[0].Value(), `realm="acme.example"`) {
				t.Fatalf("challenges: %v", chals)
			}
			res, err = cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: e.user, Password: e.pass})
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 {
				t.Fatalf("after auth %d %s, want 200", res.StatusCode, res.Reason)
			}
			if res.GetHeader("Date") == nil {
				t.Error("200 without Date")
			}
			c := res.GetHeaders("Contact")
			if len(c) != 1 || !strings.Contains(c[0].Value(), "expires=") {
				t.Fatalf("contacts in 200: %v", c)
			}
			exp, _ := c[0].(*sip.ContactHeader).Params.Get("expires")
			if n, _ := strconv.Atoi(exp); n < 590 || n > 600 {
				t.Errorf("expires %s, want ~600", exp)
			}
			found := false
			for _, b := range e.srv.Registrations("acme") {
				if b.Username == e.user && b.Transport == strings.ToUpper(transport) && b.UserAgent == "Snom D785 10.1.54.13" {
					found = true
				}
			}
			if !found {
				t.Fatalf("binding not listed: %+v", e.srv.Registrations("acme"))
			}
			if len(e.srv.Registrations("other")) != 0 {
				t.Error("another tenant sees the binding")
			}
		})
	}
}

func TestRegisterRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p := newPhone(t, e, e.user, e.pass, e.domain)

	t.Run("md5 too", func(t *testing.T) {
		res := p.send(p.registerMsg(e.user, ""))
		res = p.send(p.registerMsg(e.user, p.authorization(res, "REGISTER", "sip:"+e.domain, "MD5", 1)))
		if res == nil || res.StatusCode != 200 {
			t.Fatalf("MD5 register: %v", res)
		}
		b := e.srv.Registrations("acme")
		if len(b) != 1 || b[0].MAC != "001565aabbcc" || b[0].Source != p.addr() || b[0].Instance == "" {
			t.Fatalf("binding %+v", b)
		}
	})
	t.Run("replayed nc refused", func(t *testing.T) {
		res := p.send(p.registerMsg(e.user, ""))
		auth := p.authorization(res, "REGISTER", "sip:"+e.domain, "", 1)
		if res = p.send(p.registerMsg(e.user, auth)); res.StatusCode != 200 {
			t.Fatalf("first use %d", res.StatusCode)
		}
		// Same nonce and nc on a new CSeq: a replay, not a retransmission.
		if res = p.send(p.registerMsg(e.user, auth)); res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
			t.Fatalf("replay answered %d", res.StatusCode)
		}
	})
	t.Run("retransmission answered again", func(t *testing.T) {
		res := p.send(p.registerMsg(e.user, ""))
		msg := p.registerMsg(e.user, p.authorization(res, "REGISTER", "sip:"+e.domain, "", 1))
		if res = p.send(msg); res.StatusCode != 200 {
			t.Fatal(res.StatusCode)
		}
		if res = p.send(msg); res.StatusCode != 200 {
			t.Fatalf("retransmission answered %d", res.StatusCode)
		}
	})
	t.Run("wrong password and unknown user look alike", func(t *testing.T) {
		bad := newPhone(t, e, e.user, "wrong", e.domain)
		r1 := bad.register(e.user)
		ghost := newPhone(t, e, "nosuchuser", "wrong", e.domain)
		r2 := ghost.register("nosuchuser")
		if r1.StatusCode != 403 || r2.StatusCode != 403 || r1.Reason != r2.Reason ||
			len(r1.Headers()) != len(r2.Headers()) {
			t.Fatalf("wrong password %d %q, unknown user %d %q", r1.StatusCode, r1.Reason, r2.StatusCode, r2.Reason)
		}
	})
	t.Run("not the owner of the AOR", func(t *testing.T) {
		other, _ := e.st.Extension("acme", "201")
		_ = other
		if res := p.register("999"); res.StatusCode != 403 {
			t.Fatalf("foreign AOR: %d", res.StatusCode)
		}
	})
	t.Run("domain not served", func(t *testing.T) {
		q := newPhone(t, e, e.user, e.pass, "nowhere.example")
		if res := q.send(q.registerMsg(e.user, "")); res.StatusCode != 404 {
			t.Fatalf("unknown domain: %d", res.StatusCode)
		}
	})
	t.Run("account of another tenant", func(t *testing.T) {
		ext, _ := e.st.Extension("other", "301")
		pw, _ := e.st.SIPPassword(ext)
		q := newPhone(t, e, ext.SIPUsername, pw, e.domain) // right password, wrong domain
		if res := q.register(ext.SIPUsername); res.StatusCode != 403 {
			t.Fatalf("cross-tenant: %d", res.StatusCode)
		}
	})
	t.Run("unsupported Require", func(t *testing.T) {
		res := p.send(p.registerMsg(e.user, "", "Require: path, foo"))
		if res.StatusCode != 420 || res.GetHeader("Unsupported").Value() != "path, foo" {
			t.Fatalf("Require: %d", res.StatusCode)
		}
	})
	t.Run("too brief", func(t *testing.T) {
		res := p.register(e.user, "Expires: 10")
		if res.StatusCode != 423 || res.GetHeader("Min-Expires").Value() != "60" {
			t.Fatalf("Expires 10: %v", res.Short())
		}
	})
	t.Run("expiry capped and from contact param", func(t *testing.T) {
		res := p.register(e.user, "Expires: 99999", fmt.Sprintf("Contact: <sip:x@%s>;expires=120", p.addr()))
		if res.StatusCode != 200 {
			t.Fatal(res.StatusCode)
		}
		for _, h := range res.GetHeaders("Contact") {
			c := h.(*sip.ContactHeader)
			v, _ := c.Params.Get("expires")
			n, _ := strconv.Atoi(v)
			if c.Address.User == "x" && (n > 120 || n < 110) {
				t.Errorf("contact param expiry %d", n)
			}
			if c.Address.User == e.user && n > 7200 {
				t.Errorf("uncapped expiry %d", n)
			}
		}
	})
	t.Run("star needs Expires 0 and alone", func(t *testing.T) {
		if res := p.register(e.user, "Contact: *"); res.StatusCode != 400 {
			t.Fatalf("* without Expires: %d", res.StatusCode)
		}
		if res := p.register(e.user, "Contact: *", "Contact: <sip:y@127.0.0.1>", "Expires: 0"); res.StatusCode != 400 {
			t.Fatalf("* with another contact: %d", res.StatusCode)
		}
		res := p.register(e.user, "Contact: *", "Expires: 0")
		if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 0 {
			t.Fatalf("* Expires 0: %d %v", res.StatusCode, res.GetHeaders("Contact"))
		}
		if n := len(e.srv.Registrations("acme")); n != 0 {
			t.Fatalf("%d bindings left after *", n)
		}
	})
	t.Run("lower CSeq in the same Call-ID", func(t *testing.T) {
		if res := p.register(e.user); res.StatusCode != 200 {
			t.Fatal(res.StatusCode)
		}
		p.cseq -= 10
		res := p.send(p.registerMsg(e.user, ""))
		res = p.send(p.registerMsg(e.user, p.authorization(res, "REGISTER", "sip:"+e.domain, "", 1)))
		if res.StatusCode != 400 {
			t.Fatalf("out-of-order CSeq: %d", res.StatusCode)
		}
		p.cseq += 20
	})
	t.Run("contact limit drops the oldest", func(t *testing.T) {
		for i := range 7 {
			if res := p.register(e.user, fmt.Sprintf("Contact: <sip:c%d@127.0.0.1:%d>", i, 6000+i)); res.StatusCode != 200 {
				t.Fatal(res.StatusCode)
			}
		}
		bs := e.srv.Registrations("acme")
		if len(bs) != 5 {
			t.Fatalf("%d bindings, want 5", len(bs))
		}
		for _, b := range bs {
			if strings.Contains(b.Contact, "sip:c0@") || strings.Contains(b.Contact, "sip:c1@") {
				t.Errorf("oldest kept: %s", b.Contact)
			}
		}
	})
	t.Run("options", func(t *testing.T) {
		msg := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKo1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", e.domain, p.addr(), e.domain)
		if res := p.send(msg); res.StatusCode != 200 {
			t.Fatal(res.StatusCode)
		}
	})
	t.Run("ip address means default tenant", func(t *testing.T) {
		q := newPhone(t, e, e.user, e.pass, "127.0.0.1")
		res := q.send(q.registerMsg(e.user, ""))
		if res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), `realm="default.dialtone.local"`) {
			t.Fatalf("IP domain: %s", res.GetHeader("WWW-Authenticate").Value())
		}
	})
}

func TestStaleNonce(t *testing.T) {
	t.Parallel()
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	e := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.Now = now } })
	p := newPhone(t, e, e.user, e.pass, e.domain)
	res := p.send(p.registerMsg(e.user, ""))
	auth := p.authorization(res, "REGISTER", "sip:"+e.domain, "", 1)
	offset.Store(int64(301 * time.Second))
	res = p.send(p.registerMsg(e.user, auth))
	if res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce: %d", res.StatusCode)
	}
	if res = p.send(p.registerMsg(e.user, p.authorization(res, "REGISTER", "sip:"+e.domain, "", 1))); res.StatusCode != 200 {
		t.Fatalf("fresh nonce: %d", res.StatusCode)
	}
}

// TestBlockAfterFailures: 10 failures in a minute block the address; another address
// still registers; the block is logged once.
func TestBlockAfterFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := newPhone(t, e, e.user, "wrong", e.domain)
	for i := range 10 {
		if res := bad.register(e.user); res.StatusCode != 403 {
			t.Fatalf("attempt %d: %d", i, res.StatusCode)
		}
	}
	// Even the right password is refused from the blocked address now, without a challenge.
	bad.pass = e.pass
	if res := bad.send(bad.registerMsg(e.user, "")); res.StatusCode != 403 {
		t.Fatalf("blocked source got %d", res.StatusCode)
	}
	if n := strings.Count(e.logs.String(), "source blocked"); n != 1 {
		t.Fatalf("block logged %d times", n)
	}
	if strings.Contains(e.logs.String(), e.pass) || strings.Contains(e.logs.String(), e.user) {
		t.Fatal("credentials in the log")
	}
	// Another source address (127.0.0.2) is untouched.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	good := newPhone(t, e, e.user, e.pass, e.domain)
	good.c.Close()
	good.c = c
	if res := good.register(e.user); res.StatusCode != 200 {
		t.Fatalf("other source: %d", res.StatusCode)
	}
}

// TestBindingsSurviveRestart: bindings persist through the store and come back.
func TestBindingsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *store.Tx) error {
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "acme", SIPDomain: "acme.example"}); err != nil {
			return err
		}
		_, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "A", LastName: "B", Email: "a@acme.example", Role: store.RoleUser, Extensions: []string{"201"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(e *env) { e.st = st })
	p := newPhone(t, e, e.user, e.pass, e.domain)
	if res := p.register(e.user); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	e.stop() // Close flushes pending bindings
	st.Close()

	st2, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	srv, err := New(Config{Store: st2})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	bs := srv.Registrations("acme")
	if len(bs) != 1 || bs[0].Username != e.user || bs[0].Source != p.addr() {
		t.Fatalf("after restart: %+v", bs)
	}
}
