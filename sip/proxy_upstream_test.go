package sip

import (
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// peerUpstreams makes a test endpoint tenant acme's upstream.
type peerUpstreams struct {
	mu     sync.Mutex
	target UpstreamTarget
	from   netip.AddrPort
}

func (p *peerUpstreams) Target(tenant string) (UpstreamTarget, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target, tenant == "acme" && p.target.Host != ""
}

func (p *peerUpstreams) FromUpstream(src netip.AddrPort) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "acme", p.from.IsValid() && src == p.from
}

func upstreamEnv(t *testing.T) (*callEnv, *peerUpstreams, *ua) {
	ups := &peerUpstreams{}
	ce := newCallEnv(t, func(c *Config) { c.Upstreams = ups })
	up := newPeer(t, ce.env, "trunk", "trunk-secret", "UDP")
	ap := up.udp.LocalAddr().(*net.UDPAddr).AddrPort()
	ups.mu.Lock()
	defer ups.mu.Unlock()
	ups.target = UpstreamTarget{Host: "127.0.0.1", Port: int(ap.Port()), Transport: "UDP",
		Username: "trunk", Password: "trunk-secret", Domain: "provider.example"}
	ups.from = ap
	return ce, ups, up
}

// An outside call goes to the upstream with the number and the asserted caller ID; the
// upstream's 407 is answered with its credentials, and its 200 reaches the phone.
func TestCallUpstream(t *testing.T) {
	t.Parallel()
	ce, _, up := upstreamEnv(t)
	a := ce.line(t, 201, "UDP")
	c := a.call("0301234567", "")
	inv := up.expectRequest(sip.INVITE)
	if inv.Recipient.User != "301234567" || inv.Recipient.Host != "provider.example" {
		t.Errorf("Request-URI at the upstream: %s", inv.Recipient.String())
	}
	pai := inv.GetHeader("P-Asserted-Identity")
	if pai == nil || !strings.Contains(pai.Value(), "sip:4930123@provider.example") || !strings.Contains(pai.Value(), `"Acme"`) {
		t.Errorf("P-Asserted-Identity: %v", pai)
	}
	if inv.From().Address.User != a.user || inv.GetHeader("Proxy-Authorization") != nil {
		t.Errorf("From %s, phone credentials passed on: %v", inv.From().Address.User, inv.GetHeader("Proxy-Authorization") != nil)
	}
	var chal strings.Builder
	chal.WriteString("SIP/2.0 407 Proxy Authentication Required\r\n")
	for _, v := range inv.GetHeaders("Via") {
		chal.WriteString(v.String() + "\r\n")
	}
	chal.WriteString(inv.From().String() + "\r\n" + inv.To().String() + ";tag=up1\r\nCall-ID: " + inv.CallID().Value() + "\r\n")
	chal.WriteString(inv.CSeq().String() + "\r\nProxy-Authenticate: Digest realm=\"provider.example\", nonce=\"n0nce\", algorithm=MD5, qop=\"auth\"\r\nContent-Length: 0\r\n\r\n")
	up.send(chal.String())
	up.expectRequest(sip.ACK)
	again := up.expectRequest(sip.INVITE)
	auth := again.GetHeader("Proxy-Authorization")
	if auth == nil || !strings.Contains(auth.Value(), `username="trunk"`) || again.CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Fatalf("INVITE again: credentials %v, CSeq %d (first %d)", auth, again.CSeq().SeqNo, inv.CSeq().SeqNo)
	}
	if b1, _ := again.Via().Params.Get("branch"); b1 == "" || strings.Contains(inv.Via().String(), b1) {
		t.Errorf("INVITE again with the same branch")
	}
	up.answer(again, 200, "OK", "up2")
	if r := a.final(sip.INVITE); r.StatusCode != 200 {
		t.Fatalf("caller got %d", r.StatusCode)
	}
	waitUntil(t, "answered", func() bool { return len(ce.obs.kinds(c.callID)) >= 2 })
}

// No upstream: an emergency call is answered 503 with the reason, and logged at warn.
func TestEmergencyWithoutUpstream(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	a.call("112", "")
	if r := a.final(sip.INVITE); r.StatusCode != 503 || r.Reason != "No upstream for outside calls" {
		t.Fatalf("emergency without upstream: %d %s", r.StatusCode, r.Reason)
	}
	waitUntil(t, "warn line", func() bool {
		return strings.Contains(ce.logs.String(), "level=WARN msg=\"emergency call not placed")
	})
}

// A call from the upstream to a user's DID rings their phone, without a challenge.
func TestCallFromUpstream(t *testing.T) {
	t.Parallel()
	ce, _, up := upstreamEnv(t)
	b := ce.line(t, 202, "UDP")
	c := &outCall{u: up, callID: randHex(8), fromTag: "pstn1", cseq: 7, ruri: "sip:4930123202@acme.example"}
	up.send(c.inviteMsg("+4915112345678", ""))
	inv := b.expectRequest(sip.INVITE)
	b.answer(inv, 200, "OK", "b9")
	if r := up.final(sip.INVITE); r.StatusCode != 200 {
		t.Fatalf("upstream got %d", r.StatusCode)
	}
	// Anyone else sending the same is challenged like a phone.
	stranger := newPeer(t, ce.env, "x", "y", "UDP")
	c2 := &outCall{u: stranger, callID: randHex(8), fromTag: "s1", cseq: 1, ruri: "sip:4930123202@acme.example"}
	stranger.send(c2.inviteMsg("+4915112345678", ""))
	if r := stranger.final(sip.INVITE); r.StatusCode != 407 {
		t.Fatalf("INVITE from a stranger: %d, want 407", r.StatusCode)
	}
}

// max_calls 1: a second call while the first rings is refused 503 with the reason;
// max_calls_per_user 1 for the callee: 486.
func TestCallLimits(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a, b := ce.line(t, 201, "UDP"), ce.line(t, 202, "UDP")
	setLimits := func(tenant, user int) {
		err := ce.st.Update(func(tx *store.Tx) error {
			prev, err := tx.Tenant("acme")
			if err != nil {
				return err
			}
			next := prev
			next.MaxCalls, next.MaxCallsPerUser = tenant, user
			return tx.SaveTenant(prev, next)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setLimits(1, 0)
	a.call("202", "")
	b.expectRequest(sip.INVITE)
	a2 := ce.line(t, 201, "UDP")
	a2.call("202", "")
	if r := a2.final(sip.INVITE); r.StatusCode != 503 || r.Reason != "Too many calls for this tenant" {
		t.Fatalf("over max_calls: %d %s", r.StatusCode, r.Reason)
	}
	setLimits(5, 1)
	a2.call("202", "")
	if r := a2.final(sip.INVITE); r.StatusCode != 503 && r.StatusCode != 486 {
		t.Fatalf("over max_calls_per_user: %d %s", r.StatusCode, r.Reason)
	} else if r.Reason != "Too many calls for this user" && r.Reason != "Busy: too many calls for this user" {
		t.Fatalf("over max_calls_per_user: %d %s", r.StatusCode, r.Reason)
	}
}

// An INVITE flood from one source is refused 503 once over its rate.
func TestInviteRate(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t, func(c *Config) { c.InvitesPerSource = 3 })
	a := ce.line(t, 201, "UDP")
	codes := map[int]int{}
	for i := range 6 {
		c := &outCall{u: a, callID: randHex(8), fromTag: "f" + randHex(2), cseq: i + 1, ruri: "sip:202@" + a.domain}
		a.send(c.inviteMsg(a.user, ""))
		codes[a.final(sip.INVITE).StatusCode]++
	}
	if codes[503] == 0 || codes[407] != 3 {
		t.Fatalf("6 INVITEs at a limit of 3 a second: %v", codes)
	}
}
