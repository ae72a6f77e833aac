package sip

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// A call from 201 to 202 over UDP: 407, ringing, answer, ACK and BYE through the
// Record-Route, each side seeing what the other sent; the observer told each step.
func TestCallAnswerBye(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a, b := ce.line(t, 201, "UDP"), ce.line(t, 202, "UDP")
	testAnswerBye(t, ce, a, b)
}

// The same with the caller over TCP and the callee over UDP (double Record-Route).
func TestCallOverTCP(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a, b := ce.line(t, 201, "TCP"), ce.line(t, 202, "UDP")
	testAnswerBye(t, ce, a, b)
}

func testAnswerBye(t *testing.T, ce *callEnv, a, b *ua) {
	c := a.call("202", "")
	inv := b.expectRequest(sip.INVITE)
	// Each Record-Route names the socket its side reaches us at (RFC 5658).
	for _, rr := range inv.GetHeaders("Record-Route") {
		u := rr.(*sip.RecordRouteHeader).Address
		tr, _ := u.UriParams.Get("transport")
		want := ce.udpAddr().String()
		if tr == "tcp" {
			want = ce.tcp.Addr().String()
		}
		if got := u.Host + ":" + strconv.Itoa(u.Port); got != want {
			t.Errorf("Record-Route %s names %s, want %s", rr.Value(), got, want)
		}
	}
	if mf := inv.MaxForwards(); mf == nil || mf.Val() != 69 {
		t.Errorf("Max-Forwards at the callee: %v, want 69", mf)
	}
	if len(inv.GetHeaders("Record-Route")) == 0 || inv.GetHeader("Proxy-Authorization") != nil {
		t.Errorf("forwarded INVITE: Record-Route %d, credentials passed on: %v",
			len(inv.GetHeaders("Record-Route")), inv.GetHeader("Proxy-Authorization") != nil)
	}
	if !strings.Contains(string(inv.Body()), "m=audio 4000") {
		t.Errorf("SDP not forwarded: %q", inv.Body())
	}
	b.answer(inv, 180, "Ringing", "callee1")
	if r := a.response(180); !strings.Contains(r.To().String(), "callee1") {
		t.Errorf("180 without the callee's tag: %s", r.To())
	}
	b.answer(inv, 200, "OK", "callee1")
	ok := a.final(sip.INVITE)
	if ok.StatusCode != 200 {
		t.Fatalf("caller got %d, want 200", ok.StatusCode)
	}
	if len(ok.GetHeaders("Via")) != 1 {
		t.Errorf("200 at the caller has %d Via, want only its own", len(ok.GetHeaders("Via")))
	}
	remote := contactURI(ok.GetHeader("Contact").Value())
	from := "<sip:" + a.user + "@" + a.domain + ">;tag=" + c.fromTag
	to := ok.To().Value()
	a.inDialog("ACK", c.cseq, remote, routeSet(ok, true), from, to, c.callID)
	ack := b.expectRequest(sip.ACK)
	if ack.Route() != nil {
		t.Errorf("ACK reached the callee with our Route: %s", ack.Route())
	}
	waitUntil(t, "answered event", func() bool { return slices.Contains(ce.obs.kinds(c.callID), CallAnswered) })
	if ce.srv.CallsInProgress() != 1 {
		t.Errorf("calls in progress: %d, want 1", ce.srv.CallsInProgress())
	}

	// A re-INVITE (hold) from the caller reaches the callee and its 200 comes back.
	a.inDialog("INVITE", c.cseq+1, remote, routeSet(ok, true), from, to, c.callID)
	reinv := b.expectRequest(sip.INVITE)
	if reinv.CSeq().SeqNo != uint32(c.cseq+1) || reinv.Route() != nil {
		t.Errorf("re-INVITE at the callee: CSeq %d, Route %v", reinv.CSeq().SeqNo, reinv.Route())
	}
	b.answer(reinv, 200, "OK", "")
	if r := a.final(sip.INVITE); r.StatusCode != 200 || r.CSeq().SeqNo != uint32(c.cseq+1) {
		t.Fatalf("re-INVITE answered %d (CSeq %d)", r.StatusCode, r.CSeq().SeqNo)
	}
	a.inDialog("ACK", c.cseq+1, remote, routeSet(ok, true), from, to, c.callID)
	b.expectRequest(sip.ACK)

	// The callee hangs up: its BYE follows the Record-Route in order.
	calleeContact := contactURI(inv.GetHeader("Contact").Value())
	// It has Dialtone as its outbound proxy too, and puts that Route first.
	outbound := "<sip:" + ce.udpAddr().String() + ";lr>"
	b.inDialog("BYE", 1, calleeContact, append([]string{outbound}, routeSet(inv, false)...), to, inv.From().Value(), c.callID)
	bye := a.expectRequest(sip.BYE)
	a.answer(bye, 200, "OK", "")
	if r := b.final(sip.BYE); r.StatusCode != 200 {
		t.Fatalf("BYE answered %d", r.StatusCode)
	}
	waitUntil(t, "ended event", func() bool { return slices.Contains(ce.obs.kinds(c.callID), CallEnded) })
	ce.obs.mu.Lock()
	for _, e := range ce.obs.ev {
		if e.CallID == c.callID && (e.To != "202" || e.From != "201" || e.Route.Extension != "202") {
			t.Errorf("event %d: From %q To %q extension %q, want 201 to 202", e.Kind, e.From, e.To, e.Route.Extension)
		}
	}
	ce.obs.mu.Unlock()
	want := []CallEventKind{CallStarted, CallRinging, CallAnswered, CallEnded}
	if got := ce.obs.kinds(c.callID); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if ce.srv.CallsInProgress() != 0 {
		t.Errorf("calls in progress after BYE: %d", ce.srv.CallsInProgress())
	}
}

// CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE, CANCEL at the callee.
func TestCallCancel(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a, b := ce.line(t, 201, "UDP"), ce.line(t, 202, "UDP")
	c := a.call("202", "")
	inv := b.expectRequest(sip.INVITE)
	b.answer(inv, 180, "Ringing", "t1")
	a.response(180)
	var m strings.Builder
	m.WriteString("CANCEL " + c.ruri + " SIP/2.0\r\n" + a.via(c.branch))
	m.WriteString("Max-Forwards: 70\r\nFrom: <sip:" + a.user + "@" + a.domain + ">;tag=" + c.fromTag + "\r\n")
	m.WriteString("To: <" + c.ruri + ">\r\nCall-ID: " + c.callID + "\r\nCSeq: 2 CANCEL\r\nContent-Length: 0\r\n\r\n")
	a.send(m.String())
	if r := a.final(sip.CANCEL); r.StatusCode != 200 {
		t.Fatalf("CANCEL answered %d", r.StatusCode)
	}
	if r := a.final(sip.INVITE); r.StatusCode != 487 {
		t.Fatalf("INVITE answered %d after CANCEL, want 487", r.StatusCode)
	}
	cancel := b.expectRequest(sip.CANCEL)
	b.answer(cancel, 200, "OK", "t1")
	b.answer(inv, 487, "Request Terminated", "t1")
	b.expectRequest(sip.ACK) // the proxy acknowledges the 487 hop by hop
	waitUntil(t, "ended event", func() bool { return slices.Contains(ce.obs.kinds(c.callID), CallEnded) })
}

// Busy callee: 486 goes back; no binding at all: 480.
func TestCallBusyAndUnavailable(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	c := a.call("202", "")
	r := a.final(sip.INVITE)
	if r.StatusCode != 480 {
		t.Fatalf("no binding: %d %s, want 480", r.StatusCode, r.Reason)
	}
	c.ackNon2xx(r)
	b := ce.line(t, 202, "UDP")
	a.call("202", "")
	inv := b.expectRequest(sip.INVITE)
	b.answer(inv, 486, "Busy Here", "b1")
	if r := a.final(sip.INVITE); r.StatusCode != 486 {
		t.Fatalf("busy callee: %d %s, want 486", r.StatusCode, r.Reason)
	}
	// The proxy's ACK of the 486 carries its own Via only (RFC 3261 §17.1.1.3).
	if ack := b.expectRequest(sip.ACK); len(ack.GetHeaders("Via")) != 1 {
		t.Errorf("ACK of the 486 with %d Via", len(ack.GetHeaders("Via")))
	}
}

// Two phones on 202: both ring; the first 200 wins and the other is cancelled.
func TestCallForkFirstAnswerCancelsOther(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	b1, b2 := ce.line(t, 202, "UDP"), ce.line(t, 202, "UDP")
	a.call("202", "")
	i1, i2 := b1.expectRequest(sip.INVITE), b2.expectRequest(sip.INVITE)
	b1.answer(i1, 180, "Ringing", "x1")
	b2.answer(i2, 180, "Ringing", "x2")
	b2.answer(i2, 200, "OK", "x2")
	if r := a.final(sip.INVITE); r.StatusCode != 200 || !strings.Contains(r.To().Value(), "x2") {
		t.Fatalf("caller got %d %s, want the 200 of the second phone", r.StatusCode, r.To().Value())
	}
	cancel := b1.expectRequest(sip.CANCEL)
	b1.answer(cancel, 200, "OK", "x1")
	b1.answer(i1, 487, "Request Terminated", "x1")
	b1.expectRequest(sip.ACK)
}

// A From naming another line is refused, with the reason.
func TestCallFromAnotherLine(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	ce.line(t, 202, "UDP")
	a.call("202", ce.user2)
	if r := a.final(sip.INVITE); r.StatusCode != 403 || r.Reason != "From is not your line" {
		t.Fatalf("From of another line: %d %s", r.StatusCode, r.Reason)
	}
}

// Unauthenticated INVITE: 407 at once, the same challenge to its retransmission; an
// authenticated one gets 100 Trying at once.
func TestCallUnauthenticated(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	c := &outCall{u: a, callID: randHex(8), fromTag: "f1", cseq: 1, ruri: "sip:202@" + a.domain}
	msg := c.inviteMsg(a.user, "")
	a.send(msg)
	r := a.final(sip.INVITE)
	if r.StatusCode != 407 || r.GetHeader("Proxy-Authenticate") == nil {
		t.Fatalf("unauthenticated: %d", r.StatusCode)
	}
	a.send(msg)
	if r2 := a.final(sip.INVITE); r2.GetHeader("Proxy-Authenticate").Value() != r.GetHeader("Proxy-Authenticate").Value() {
		t.Errorf("retransmission challenged anew: %s, then %s", r.GetHeader("Proxy-Authenticate").Value(), r2.GetHeader("Proxy-Authenticate").Value())
	}
	c.ackNon2xx(r)
	c.cseq++
	a.send(c.inviteMsg(a.user, a.authorization(r, "INVITE", c.ruri)))
	a.response(100)
}

// Max-Forwards 0 is answered 483; an INVITE that comes back to us unchanged is a loop: 482.
func TestCallHopsAndLoop(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a, b := ce.line(t, 201, "UDP"), ce.line(t, 202, "UDP")
	c := &outCall{u: a, callID: randHex(8), fromTag: "f1", cseq: 1, ruri: "sip:202@" + a.domain}
	a.send(c.inviteMsg(a.user, "", "Max-Forwards: 0"))
	if r := a.final(sip.INVITE); r.StatusCode != 483 {
		t.Fatalf("Max-Forwards 0: %d", r.StatusCode)
	}
	c2 := a.call("202", "")
	inv := b.expectRequest(sip.INVITE)
	// The callee's side hands the INVITE back as it came, to the number dialled.
	back := inv.Clone()
	back.Recipient = sip.Uri{}
	sip.ParseUri(c2.ruri, &back.Recipient)
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP",
		Host: "127.0.0.1", Port: b.udp.LocalAddr().(*net.UDPAddr).Port, Params: sip.NewParams()}
	v.Params.Add("branch", "z9hG4bK"+randHex(6))
	back.PrependHeader(v)
	b.send(back.String())
	if r := b.final(sip.INVITE); r.StatusCode != 482 {
		t.Fatalf("looped INVITE: %d %s, want 482", r.StatusCode, r.Reason)
	}
}

// A BYE naming us in a Route we did not make is refused; one with no Route of ours 481.
func TestInDialogRouteChecked(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	host := ce.udpAddr().String()
	a.inDialog("BYE", 5, "sip:x@192.0.2.1", []string{"<sip:" + host + ";lr;dt=AAAA;ftag=x>"},
		"<sip:a@acme.example>;tag=x", "<sip:b@acme.example>;tag=y", "c1")
	if r := a.final(sip.BYE); r.StatusCode != 403 {
		t.Fatalf("forged route: %d", r.StatusCode)
	}
	a.inDialog("BYE", 6, "sip:x@192.0.2.1", nil, "<sip:a@acme.example>;tag=x", "<sip:b@acme.example>;tag=y", "c2")
	if r := a.final(sip.BYE); r.StatusCode != 481 {
		t.Fatalf("no route: %d", r.StatusCode)
	}
}

// A 2xx retransmitted after its branch's transaction ended (the callee had no ACK yet)
// is still forwarded to the caller, statelessly by the Vias; one whose branch we did
// not seal is not, wherever its Vias point.
func TestStray2xxForwarded(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a, b := ce.line(t, 201, "UDP"), ce.line(t, 202, "UDP")
	a.call("202", "")
	inv := b.expectRequest(sip.INVITE)
	b.answer(inv, 200, "OK", "s1")
	if r := a.final(sip.INVITE); r.StatusCode != 200 {
		t.Fatalf("caller got %d", r.StatusCode)
	}
	branch, _ := inv.Via().Params.Get("branch")
	ce.srv.proxy.dropClient(clientKey(branch, sip.INVITE)) // as when its wait is over
	forged := inv.Clone()
	forged.Via().Params.Add("branch", sip.RFC3261BranchMagicCookie+"dtx.0000.0000000000000000")
	b.answer(forged, 200, "OK", "forged")
	b.answer(inv, 200, "OK", "s1")
	if r := a.final(sip.INVITE); r.StatusCode != 200 || !strings.Contains(r.To().Value(), "s1") {
		t.Fatalf("stray 200 at the caller: %d %s, want the callee's own", r.StatusCode, r.To().Value())
	}
}

// A phone behind NAT registers a private Contact: its calls reach it at the address its
// REGISTER came from (RFC 5626 §5.3, RFC 3581), the Contact kept as Request-URI.
func TestCallReachesNATedPhone(t *testing.T) {
	t.Parallel()
	ce := newCallEnv(t)
	a := ce.line(t, 201, "UDP")
	b := newPeer(t, ce.env, ce.user2, ce.pass2, "UDP")
	res := b.request("REGISTER", "sip:"+b.domain, b.user, "", func(w *strings.Builder) {
		w.WriteString("Contact: <sip:" + b.user + "@192.168.7.20:5060>\r\n")
	})
	if res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	a.call("202", "")
	inv := b.expectRequest(sip.INVITE) // at the socket the REGISTER came from
	if inv.Recipient.Host != "192.168.7.20" {
		t.Errorf("Request-URI %s, want the registered Contact", inv.Recipient.String())
	}
	b.answer(inv, 486, "Busy Here", "n1")
	if r := a.final(sip.INVITE); r.StatusCode != 486 {
		t.Fatalf("caller got %d", r.StatusCode)
	}
}
