package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/tlscert"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// provider is a SIP registrar on loopback (sipgo's server) playing a tenant's
// upstream: it challenges every REGISTER without valid credentials (401, MD5, qop=auth),
// then grants `grant` seconds.
type provider struct {
	addr  netip.AddrPort
	user  string
	realm string
	mu    sync.Mutex
	pass  string
	// more are further accounts (user → password) it accepts besides user's.
	more  map[string]string
	grant int
	regs  []providerReg
	// nat, when set, is the received;rport its answers' Via say it saw (a NAT's).
	nat netip.AddrPort
	ua  *sipgo.UserAgent
}

type providerReg struct {
	src      netip.AddrPort
	authed   bool
	expires  string
	callID   string
	cseq     uint32
	contact  string
	received time.Time
}

func newProvider(t *testing.T, user, pass string, grant int) *provider {
	return newProviderOn(t, "udp", user, pass, grant)
}

func newProviderOn(t *testing.T, network, user, pass string, grant int) *provider {
	return newProviderTLS(t, network, nil, user, pass, grant)
}

// newProviderTLS is a provider over TCP ("tcp") or UDP, or over TLS with conf.
func newProviderTLS(t *testing.T, network string, conf *tls.Config, user, pass string, grant int) *provider {
	t.Helper()
	p := &provider{user: user, pass: pass, realm: "provider.example", grant: grant}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("provider"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(p.onRegister)
	p.ua = ua
	if network == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.addr = l.Addr().(*net.TCPAddr).AddrPort()
		if conf != nil {
			go srv.ServeTLS(tls.NewListener(l, conf))
		} else {
			go srv.ServeTCP(l)
		}
		t.Cleanup(func() { l.Close(); ua.Close() })
		return p
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	go srv.ServeUDP(pc)
	t.Cleanup(func() { pc.Close(); ua.Close() })
	return p
}

func (p *provider) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	src, _ := netip.ParseAddrPort(req.Source())
	reg := providerReg{src: src, callID: req.CallID().Value(), cseq: req.CSeq().SeqNo, received: time.Now()}
	if h := req.GetHeader("Expires"); h != nil {
		reg.expires = h.Value()
	}
	if c := req.Contact(); c != nil {
		reg.contact = c.Address.String()
	}
	p.mu.Lock()
	grant, nat := p.grant, p.nat
	accounts := map[string]string{p.user: p.pass}
	for u, pw := range p.more {
		accounts[u] = pw
	}
	p.mu.Unlock()
	respond := func(res *sip.Response) {
		if nat.IsValid() {
			via := res.Via()
			via.Params.Add("received", nat.Addr().String())
			via.Params.Add("rport", strconv.Itoa(int(nat.Port())))
		}
		tx.Respond(res)
	}
	nonce := "n" + strconv.FormatUint(uint64(reg.cseq), 10)
	if h := req.GetHeader("Authorization"); h != nil {
		if cred, err := digest.ParseCredentials(h.Value()); err == nil && accounts[cred.Username] != "" {
			pass := accounts[cred.Username]
			want, err := digest.Digest(&digest.Challenge{Realm: p.realm, Nonce: cred.Nonce, QOP: []string{"auth"}, Algorithm: "MD5"},
				digest.Options{Method: "REGISTER", URI: cred.URI, Username: cred.Username, Password: pass, Cnonce: cred.Cnonce, Count: cred.Nc})
			reg.authed = err == nil && want.Response == cred.Response
		}
	}
	p.mu.Lock()
	p.regs = append(p.regs, reg)
	p.mu.Unlock()
	if !reg.authed {
		res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		chal := digest.Challenge{Realm: p.realm, Nonce: nonce, QOP: []string{"auth"}, Algorithm: "MD5"}
		res.AppendHeader(sip.NewHeader("WWW-Authenticate", chal.String()))
		respond(res)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if c := req.Contact(); c != nil && reg.expires != "0" {
		cc := c.Clone()
		cc.Params = sip.NewParams()
		cc.Params.Add("expires", strconv.Itoa(grant))
		res.AppendHeader(cc)
	}
	respond(res)
}

func (p *provider) registers() []providerReg {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]providerReg(nil), p.regs...)
}

func (p *provider) setPassword(pw string) { p.mu.Lock(); p.pass = pw; p.mu.Unlock() }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func saveUpstream(t *testing.T, st *store.Store, u store.Upstream, pw string) {
	t.Helper()
	err := st.Update(func(tx *store.Tx) error {
		_, err := tx.SaveUpstream("acme", u, store.UpstreamSecret{Set: pw})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpstreamRegistration: Dialtone registers to a tenant's upstream from its listening
// socket, answering the digest challenge; refreshes at half the time granted within one
// Call-ID; shows a refusal as failed and retries; follows a changed password; and
// un-registers when the upstream is removed.
func TestUpstreamRegistration(t *testing.T) {
	e := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.UpstreamRetry = 100 * time.Millisecond } })
	prov := newProvider(t, "31201110000", "right-password", 2)
	up := store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "udp", Username: "31201110000", Domain: "provider.example", Expiry: 120}
	saveUpstream(t, e.st, up, "right-password")

	state := func() TrunkState { s, _ := e.srv.UpstreamState("acme"); return s }
	waitFor(t, 5*time.Second, "registered", func() bool { return state().State == TrunkRegistered })
	regs := prov.registers()
	if len(regs) < 2 || regs[0].authed || !regs[1].authed {
		t.Fatalf("want a challenge then credentials: %+v", regs)
	}
	if regs[1].src.Port() != uint16(e.udpAddr().Port) || regs[1].expires != "120" {
		t.Fatalf("REGISTER from %v asking %s, want from the listening port %d asking 120", regs[1].src, regs[1].expires, e.udpAddr().Port)
	}
	if st := state(); st.Registrar != prov.addr.String() || st.Expires.Sub(st.LastAttempt) != 2*time.Second {
		t.Fatalf("state %+v", st)
	}

	// Refreshed at half the 2 s granted, same Call-ID, higher CSeq.
	waitFor(t, 5*time.Second, "a refresh", func() bool {
		n := 0
		for _, r := range prov.registers() {
			if r.authed {
				n++
			}
		}
		return n >= 2
	})
	var authed []providerReg
	for _, r := range prov.registers() {
		if r.authed {
			authed = append(authed, r)
		}
	}
	if authed[1].callID != authed[0].callID || authed[1].cseq <= authed[0].cseq {
		t.Fatalf("refresh %+v after %+v", authed[1], authed[0])
	}
	if gap := authed[1].received.Sub(authed[0].received); gap < 700*time.Millisecond || gap > 1800*time.Millisecond {
		t.Fatalf("refreshed %v after registering, want about 1 s (half of 2 s)", gap)
	}

	// The upstream and only it is known as the tenant's.
	if tn, ok := e.srv.FromUpstream(prov.addr); !ok || tn != "acme" {
		t.Fatalf("FromUpstream(provider) = %q %v", tn, ok)
	}
	if _, ok := e.srv.FromUpstream(netip.MustParseAddrPort("127.0.0.2:5060")); ok {
		t.Fatal("another address is taken for the upstream")
	}
	if tg, ok := e.srv.Target("acme"); !ok || tg.Password != "right-password" || tg.Transport != "UDP" || tg.Domain != "provider.example" {
		t.Fatalf("Target = %+v %v", tg, ok)
	}

	// The provider changes the password: failed, with the reason, retried.
	prov.setPassword("new-password")
	waitFor(t, 5*time.Second, "failed", func() bool { return state().State == TrunkFailed })
	if st := state(); !strings.Contains(st.Reason, "credentials") || st.NextAttempt.IsZero() {
		t.Fatalf("failed state %+v", st)
	}
	// The admin saves the new one: registered again.
	saveUpstream(t, e.st, up, "new-password")
	waitFor(t, 5*time.Second, "registered with the new password", func() bool { return state().State == TrunkRegistered })

	// Removed: un-registered (Expires: 0) and no longer trusted.
	before := len(prov.registers())
	if err := e.st.Update(func(tx *store.Tx) error { _, err := tx.DeleteUpstream("acme"); return err }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "un-registration", func() bool {
		for _, r := range prov.registers()[before:] {
			if r.authed && r.expires == "0" {
				return true
			}
		}
		return false
	})
	if _, ok := e.srv.UpstreamState("acme"); ok {
		t.Fatal("still registering after removal")
	}
	if _, ok := e.srv.FromUpstream(prov.addr); ok {
		t.Fatal("a removed upstream is still trusted")
	}
}

// TestUpstreamBackoff: a failing registration is retried with a doubling wait.
func TestUpstreamBackoff(t *testing.T) {
	e := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.UpstreamRetry = 50 * time.Millisecond } })
	// A provider refusing the credentials (an unanswered REGISTER fails the same way,
	// only after Timer F's 32 s).
	prov := newProvider(t, "31201110000", "right-password", 60)
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "udp", Username: "31201110000"}, "wrong-password")
	waitFor(t, 5*time.Second, "three failures", func() bool {
		n := 0
		for _, r := range prov.registers() {
			if !r.authed {
				n++
			}
		}
		return n >= 6 // two challenges per attempt
	})
	regs := prov.registers()
	// Attempts start at the challenge-less REGISTER of each round: waits grow.
	var starts []time.Time
	for i, r := range regs {
		if i%2 == 0 {
			starts = append(starts, r.received)
		}
	}
	if len(starts) < 3 {
		t.Fatalf("attempts %d", len(starts))
	}
	if g1, g2 := starts[1].Sub(starts[0]), starts[2].Sub(starts[1]); g2 < g1+30*time.Millisecond {
		t.Fatalf("waits %v then %v: not backing off", g1, g2)
	}
	if st, _ := e.srv.UpstreamState("acme"); st.State != TrunkFailed {
		t.Fatalf("state %+v", st)
	}
}

// TestUpstreamIPMode: an ip-mode upstream is trusted by its prefixes, and nobody else.
func TestUpstreamIPMode(t *testing.T) {
	e := newEnv(t)
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamIP, Host: "192.0.2.10", Trusted: []string{"192.0.2.0/29"}}, "")
	waitFor(t, time.Second, "trust", func() bool { _, ok := e.srv.FromUpstream(netip.MustParseAddrPort("192.0.2.7:5060")); return ok })
	if _, ok := e.srv.FromUpstream(netip.MustParseAddrPort("192.0.2.8:5060")); ok {
		t.Fatal("an address outside the prefix is trusted")
	}
	if _, ok := e.srv.UpstreamState("acme"); ok {
		t.Fatal("an ip-mode upstream registers")
	}
	if tg, ok := e.srv.Target("acme"); !ok || tg.Host != "192.0.2.10" || tg.Port != 5060 {
		t.Fatalf("Target = %+v", tg)
	}
}

// TestUpstreamBehindNAT: when the upstream's answer says it saw us at another address
// (Via received and rport, RFC 3581 §4: we are behind NAT), the registration's Contact
// names that address, so the upstream's calls reach us through the NAT.
func TestUpstreamBehindNAT(t *testing.T) {
	e := newEnv(t)
	prov := newProvider(t, "31201110000", "right-password", 600)
	prov.mu.Lock()
	prov.nat = netip.MustParseAddrPort("192.0.2.1:40000")
	prov.mu.Unlock()
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "udp", Username: "31201110000"}, "right-password")
	waitFor(t, 5*time.Second, "registered", func() bool { s, _ := e.srv.UpstreamState("acme"); return s.State == TrunkRegistered })
	regs := prov.registers()
	last := regs[len(regs)-1]
	if !last.authed || !strings.Contains(last.contact, "@192.0.2.1:40000") {
		t.Fatalf("registered Contact %q, want the address the upstream saw", last.contact)
	}
	if st, _ := e.srv.UpstreamState("acme"); st.Expires.Sub(st.LastAttempt) != 600*time.Second {
		t.Fatalf("granted time not read for the public Contact: %+v", st)
	}
}

// TestUpstreamOverTCP: over TCP the registration keeps its own connection, the
// upstream's requests come back over it (answered by the server), and its source is
// known as the tenant's upstream.
func TestUpstreamOverTCP(t *testing.T) {
	e := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.UpstreamRetry = 100 * time.Millisecond } })
	prov := newProviderOn(t, "tcp", "31201110000", "right-password", 600)
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "tcp", Username: "31201110000"}, "right-password")
	waitFor(t, 5*time.Second, "registered", func() bool { s, _ := e.srv.UpstreamState("acme"); return s.State == TrunkRegistered })
	regs := prov.registers()
	last := regs[len(regs)-1]
	if tn, ok := e.srv.FromUpstream(prov.addr); !ok || tn != "acme" {
		t.Fatalf("FromUpstream(provider) = %q %v", tn, ok)
	}
	if !strings.Contains(last.contact, "transport=tcp") {
		t.Fatalf("Contact %q", last.contact)
	}
	// The provider sends an OPTIONS to the registered Contact: it goes over the
	// registration's connection (sipgo reuses the one it accepted) and is answered.
	c, err := sipgo.NewClient(prov.ua)
	if err != nil {
		t.Fatal(err)
	}
	var uri sip.Uri
	if err := sip.ParseUri(strings.Trim(last.contact, "<>"), &uri); err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.OPTIONS, uri)
	req.SetTransport("TCP")
	req.SetDestination(last.src.String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("OPTIONS over the registration's connection: %v %v", res, err)
	}

	// The connection drops: Dialtone connects and registers again at once, not at the
	// refresh 300 s away.
	e.srv.trunks.mu.Lock()
	r := e.srv.trunks.regs["acme"]
	e.srv.trunks.mu.Unlock()
	r.mu.Lock()
	r.conn.c.Close()
	r.mu.Unlock()
	waitFor(t, 10*time.Second, "a registration over a new connection", func() bool {
		for _, g := range prov.registers()[len(regs):] {
			if g.authed && g.src != last.src {
				return true
			}
		}
		return false
	})
	waitFor(t, 5*time.Second, "registered again", func() bool { s, _ := e.srv.UpstreamState("acme"); return s.State == TrunkRegistered })
}

// TestUpstreamOverTLS: over TLS the upstream's certificate is verified (here against
// Config.UpstreamTLS's roots) before the REGISTER goes out; one from an unknown CA
// fails the registration with the reason.
func TestUpstreamOverTLS(t *testing.T) {
	m, err := tlscert.New(context.Background(), tlscert.Options{Dir: t.TempDir(), PublicHost: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(m.CAPEM()) {
		t.Fatal("CA PEM")
	}
	roots := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	e := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.UpstreamTLS = roots; c.UpstreamRetry = time.Hour } })
	prov := newProviderTLS(t, "tcp", m.ServerConfig(), "31201110000", "right-password", 600)
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "tls", Username: "31201110000"}, "right-password")
	waitFor(t, 5*time.Second, "registered over TLS", func() bool { s, _ := e.srv.UpstreamState("acme"); return s.State == TrunkRegistered })
	if st, _ := e.srv.UpstreamState("acme"); st.Transport != "TLS" {
		t.Fatalf("state %+v", st)
	}

	// Another Dialtone trusting only the system's roots refuses the private CA.
	f := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.UpstreamRetry = time.Hour } })
	err = f.st.Update(func(tx *store.Tx) error {
		_, err := tx.SaveUpstream("acme", store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
			Transport: "tls", Username: "31201110000"}, store.UpstreamSecret{Set: "right-password"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "failed", func() bool { s, _ := f.srv.UpstreamState("acme"); return s.State == TrunkFailed })
	if st, _ := f.srv.UpstreamState("acme"); !strings.Contains(st.Reason, "TLS") {
		t.Fatalf("failed state %+v", st)
	}
}

// TestUpstreamSharedProvider: two tenants registered to one provider; its requests are
// told apart by the Request-URI user (each tenant's registered Contact user), never
// given to either by source alone.
func TestUpstreamSharedProvider(t *testing.T) {
	e := newEnv(t)
	prov := newProvider(t, "acme-trunk", "pw-a", 600)
	prov.mu.Lock()
	prov.more = map[string]string{"other-trunk": "pw-o"} // the provider serves already
	prov.mu.Unlock()
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "udp", Username: "acme-trunk"}, "pw-a")
	err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.SaveUpstream("other", store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
			Transport: "udp", Username: "other-trunk"}, store.UpstreamSecret{Set: "pw-o"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "both registered", func() bool {
		a, _ := e.srv.UpstreamState("acme")
		o, _ := e.srv.UpstreamState("other")
		return a.State == TrunkRegistered && o.State == TrunkRegistered
	})
	if tn, ok := e.srv.FromUpstream(prov.addr); ok {
		t.Fatalf("a shared provider's request given to %q by source alone", tn)
	}
	if tn, ok := e.srv.UpstreamFor(prov.addr, "other-trunk"); !ok || tn != "other" {
		t.Fatalf("UpstreamFor(other-trunk) = %q %v", tn, ok)
	}
	if tn, ok := e.srv.UpstreamFor(prov.addr, "acme-trunk"); !ok || tn != "acme" {
		t.Fatalf("UpstreamFor(acme-trunk) = %q %v", tn, ok)
	}
	if _, ok := e.srv.UpstreamFor(prov.addr, "+31201110201"); ok {
		t.Fatal("an unknown Request-URI user picked a tenant")
	}
}

// TestUpstreamResolvedTrustYields: an ip-mode upstream trusted by what its host name
// resolves to (another tenant's provider's address, here localhost's) does not take or
// spoil requests from an address another tenant trusts by configuration.
func TestUpstreamResolvedTrustYields(t *testing.T) {
	e := newEnv(t)
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamIP, Host: "127.0.0.1", Trusted: []string{"127.0.0.1"}}, "")
	err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.SaveUpstream("other", store.Upstream{Mode: store.UpstreamIP, Host: "localhost"}, store.UpstreamSecret{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "localhost resolved", func() bool {
		e.srv.trunks.mu.Lock()
		defer e.srv.trunks.mu.Unlock()
		return len(e.srv.trunks.trusted["other"]) > 0
	})
	if tn, ok := e.srv.FromUpstream(netip.MustParseAddrPort("127.0.0.1:5060")); !ok || tn != "acme" {
		t.Fatalf("FromUpstream(127.0.0.1) = %q %v, want acme (configured) over other (resolved)", tn, ok)
	}
}

// TestUpstreamHostileReason: an upstream's reason phrase is its own text; a refusal
// with a 10 KB one is kept short in the registration's state (shown by the API) and
// the log. (A phrase with control characters does not parse: the answer is dropped.)
func TestUpstreamHostileReason(t *testing.T) {
	e := newEnv(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	reason := "Forbidden " + strings.Repeat("spam ", 2000)
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var res strings.Builder
			res.WriteString("SIP/2.0 403 " + reason + "\r\n")
			for _, line := range strings.Split(string(buf[:n]), "\r\n") {
				name, _, _ := strings.Cut(line, ":")
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "via", "from", "to", "call-id", "cseq":
					res.WriteString(line + "\r\n")
				}
			}
			res.WriteString("Content-Length: 0\r\n\r\n")
			pc.WriteTo([]byte(res.String()), from)
		}
	}()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: port,
		Transport: "udp", Username: "31201110000"}, "pw")
	var st TrunkState
	waitFor(t, 5*time.Second, "refused", func() bool { st, _ = e.srv.UpstreamState("acme"); return st.State == TrunkFailed })
	if len(st.Reason) > 200 || strings.ContainsAny(st.Reason, "\x1b\x00") || !strings.Contains(st.Reason, "403 Forbidden") {
		t.Fatalf("state reason (%d bytes): %q", len(st.Reason), st.Reason[:min(len(st.Reason), 300)])
	}
}

// TestUpstreamRefusedRegistrationClaimsNothing: another tenant pointing its upstream at
// a tenant's provider with that tenant's account name (its number, say) but not its
// password is refused by the provider, and claims none of the provider's requests: the
// tenant's calls still reach it.
func TestUpstreamRefusedRegistrationClaimsNothing(t *testing.T) {
	e := newEnv(t)
	prov := newProvider(t, "31201110000", "pw-a", 600)
	saveUpstream(t, e.st, store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
		Transport: "udp", Username: "31201110000"}, "pw-a")
	err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.SaveUpstream("other", store.Upstream{Mode: store.UpstreamRegister, Host: "127.0.0.1", Port: int(prov.addr.Port()),
			Transport: "udp", Username: "31201110000"}, store.UpstreamSecret{Set: "a guess"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "acme registered and other refused", func() bool {
		a, _ := e.srv.UpstreamState("acme")
		o, _ := e.srv.UpstreamState("other")
		return a.State == TrunkRegistered && o.State == TrunkFailed
	})
	if tn, ok := e.srv.UpstreamFor(prov.addr, "31201110000"); !ok || tn != "acme" {
		t.Fatalf("UpstreamFor(provider, 31201110000) = %q %v, want acme", tn, ok)
	}
	if tn, ok := e.srv.FromUpstream(prov.addr); !ok || tn != "acme" {
		t.Fatalf("FromUpstream(provider) = %q %v, want acme", tn, ok)
	}
}
