package sip

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/emiago/sipgo/sip"
)

// routeTimeout bounds a Dialplan decision.
const routeTimeout = 3 * time.Second

// proxyInvite takes an INVITE for the proxy; false leaves it to the flex code path
// (flex.go), or to the registrar alone when no Dialplan is wired.
func (s *Server) proxyInvite(req *sip.Request, in *inbound, w *replyWriter) bool {
	if s.proxy == nil {
		return false
	}
	if _, ok := req.To().Params.Get("tag"); ok {
		s.proxyInDialog(req, in, w) // re-INVITE
		return true
	}
	dialled := req.Recipient.User
	if _, ok := ParseFlexCode(dialled); ok || strings.HasPrefix(dialled, "*55") || strings.HasPrefix(dialled, "*56") {
		return false
	}
	key := serverKey(req, sip.INVITE)
	if f := s.proxy.server(key); f != nil {
		f.tx.Receive(req) // a retransmission: the last answer again (RFC 3261 §17.2.1)
		return true
	}
	upstream := false
	if s.cfg.Upstreams != nil {
		_, upstream = s.cfg.Upstreams.FromUpstream(in.src)
	}
	if !upstream && s.inviteFlood(in.src) {
		in.send(w.simple(503, "Too many calls from this address"))
		return true
	}
	if !upstream && s.challengeAtOnce(req, in, w) {
		return true
	}
	own := *in
	markReceived(req, in.src)
	req.SetTransport(in.transport)
	f := s.newFwd(req, &own, key)
	if f == nil {
		in.send(w.simple(503, "Too many calls in progress"))
		return true
	}
	// RFC 3261 §16.2: a proxy answers an INVITE 100 Trying at once, so the caller stops
	// retransmitting while we authenticate and route.
	f.tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))
	go func() {
		defer crash.RecoverWith(s.log, "sip", "proxied INVITE", func() { f.respond(500, "Server Internal Error") })
		s.routeInvite(f, &own)
	}()
	return true
}

// challengeAtOnce answers an INVITE that carries no credentials with its 407 at once
// and statelessly, as a REGISTER's 401 is answered (and as Kamailio's sl module does):
// no transaction and no 100 Trying for a request whose final answer goes now; a
// retransmission gets the same challenge (retransmit.go) and its ACK goes no further.
// One over Max-Forwards, looped, or from a blocked source is left to the transaction.
func (s *Server) challengeAtOnce(req *sip.Request, in *inbound, w *replyWriter) bool {
	if firstHeader(req, "Proxy-Authorization") != nil {
		return false
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		return false
	}
	if looped(req, loopHash(req)) || s.sourceBlocked(in.src) {
		return false
	}
	t, err := s.accounts.tenantFor(req.Recipient.Host)
	if err != nil {
		t, err = s.accounts.tenantFor(req.To().Address.Host)
	}
	if err != nil {
		return false
	}
	s.writeChallenge(w, true, t, false)
	in.send(w.finish())
	return true
}

// routeInvite validates, authenticates and routes a new INVITE (RFC 3261 §16.3-16.5).
func (s *Server) routeInvite(f *fwd, in *inbound) {
	req := f.req
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		f.respond(483, "Too Many Hops") // RFC 3261 §16.3 step 3
		return
	}
	loop := loopHash(req)
	if looped(req, loop) {
		f.respond(482, "Loop Detected") // RFC 3261 §16.3 step 4
		return
	}
	if s.cfg.Upstreams != nil {
		if tenant, ok := s.cfg.Upstreams.FromUpstream(in.src); ok {
			s.inboundCall(f, in, tenant, loop)
			return
		}
	}
	t, err := s.accounts.tenantFor(req.Recipient.Host)
	if err != nil {
		t, err = s.accounts.tenantFor(req.To().Address.Host)
	}
	if err != nil {
		f.respond(404, "Not Found")
		return
	}
	cred, ok := s.authorizeTx(f, in, t)
	if !ok {
		return
	}
	from := req.From().Address.User
	if !strings.EqualFold(from, "anonymous") && from != cred.Username && (cred.Extension == "" || from != cred.Extension) {
		// A phone calls as its own line only (RFC 3325 §5: the identity is ours to
		// assert, never the phone's). Refused rather than rewritten, so a
		// misconfigured phone shows the reason instead of calling under a name it
		// does not display.
		s.log.Info("call refused: From names another line", "tenant", t.slug, "account", cred.Username, "from", from)
		f.respond(403, "From is not your line")
		return
	}
	caller := Caller{Tenant: t.slug, Username: cred.Username, Extension: cred.Extension,
		UserID: cred.UserID, GuestMAC: cred.GuestMAC, MAC: cred.GuestMAC, Source: in.src}
	if caller.MAC == "" {
		caller.MAC = s.macOfBinding(t.slug, cred.Username, in.src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), routeTimeout)
	route, err := s.cfg.Dialplan.Outbound(ctx, caller, req.Recipient.User)
	cancel()
	if err != nil {
		s.log.Warn("call routing failed", "tenant", t.slug, "account", cred.Username, "err", err)
		f.respond(500, "Call routing failed")
		return
	}
	if caller.GuestMAC != "" && route.Kind != RouteEmergency && route.Kind != RouteRefuse {
		f.respond(403, "Log in to call") // a guest line dials emergency numbers only
		return
	}
	c := &call{id: req.CallID().Value(), tenant: t.slug, caller: caller, from: callerShown(cred), to: req.Recipient.User,
		route: route, at: s.now()}
	c.key = callKey(c.id, callerFlow(f.req, in))
	switch route.Kind {
	case RouteInternal:
		s.forkInternal(f, in, t, c, loop)
	case RouteUpstream, RouteEmergency:
		s.toUpstream(f, in, t, c, loop)
	default:
		code, reason := route.Code, route.Reason
		if code < 300 || code > 699 {
			code = 403
		}
		if reason == "" {
			reason = "Forbidden"
		}
		f.respond(code, reason)
	}
}

func callerShown(cred *credential) string {
	if cred.Extension != "" {
		return cred.Extension
	}
	return cred.Username
}

// authorizeTx authenticates an INVITE with a 407 challenge (RFC 3261 §22.3) through
// the registrar's authorize, its answer sent by the server transaction.
func (s *Server) authorizeTx(f *fwd, in *inbound, t *tenantInfo) (*credential, bool) {
	var answer []byte
	capture := &inbound{src: in.src, transport: in.transport, local: in.local,
		write: func(b []byte, _ netip.AddrPort) error { answer = append(answer[:0], b...); return nil }}
	w := &replyWriter{b: make([]byte, 0, 1024), req: f.req, src: in.src, tag: s.tag}
	cred, ok := s.authorize(f.req, capture, w, true, t)
	if ok {
		return cred, true
	}
	msg, err := s.parseAnswer(answer)
	if err != nil {
		f.respond(500, "Server Internal Error")
		return nil, false
	}
	f.mu.Lock()
	f.final = msg.StatusCode
	f.mu.Unlock()
	f.tx.Respond(msg)
	return nil, false
}

func (s *Server) parseAnswer(b []byte) (*sip.Response, error) {
	m, err := sip.ParseMessage(b)
	if err != nil {
		return nil, err
	}
	res, ok := m.(*sip.Response)
	if !ok {
		return nil, errNotResponse
	}
	return res, nil
}

// macOfBinding is the phone behind the caller's account at src, from its bindings.
func (s *Server) macOfBinding(tenant, username string, src netip.AddrPort) string {
	a := s.bindings.get(tenant, username, false)
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.live(s.now()) {
		if b.MAC != "" && b.Source == src.String() {
			return b.MAC
		}
	}
	return ""
}

// loopHash is the loop-detection part of our branch (RFC 3261 §16.6 step 8): the
// request as received, by its Request-URI, From tag, Call-ID and CSeq number.
func loopHash(req *sip.Request) string {
	tag, _ := req.From().Params.Get("tag")
	var n [20]byte
	seq := strconv.AppendUint(n[:0], uint64(req.CSeq().SeqNo), 10)
	return strconv.FormatUint(fnv64a(req.Recipient.String(), tag, req.CallID().Value(), string(seq)), 36)
}

// looped: a Via of ours whose branch was made for this very request (RFC 3261 §16.3
// step 4: a loop; a request that comes back changed is a spiral, and goes on).
func looped(req *sip.Request, loop string) bool {
	prefix := sip.RFC3261BranchMagicCookie + "dt" + loop + "."
	for _, h := range req.GetHeaders("Via") {
		if v, ok := h.(*sip.ViaHeader); ok {
			if b, _ := v.Params.Get("branch"); strings.HasPrefix(b, prefix) {
				return true
			}
		}
	}
	return false
}

// forkInternal rings every live binding of the callee's lines (RFC 3261 §16.6).
func (s *Server) forkInternal(f *fwd, in *inbound, t *tenantInfo, c *call, loop string) {
	c.users = callUsers(t.slug, c.caller.UserID, c.route.UserID)
	targets := s.liveBindings(t.slug, c.route.AORs, callEnd{in.transport, in.src})
	if len(targets) == 0 {
		s.refuseCall(f, c, 480, "Temporarily Unavailable")
		return
	}
	if r := s.proxy.calls.admit(c, t.maxCalls(), t.maxCallsPerUser(), t.slug+"/"+c.route.UserID); r.code != 0 {
		f.respond(r.code, r.reason)
		return
	}
	f.call = c
	s.callStarted(c)
	caller := callerFlow(f.req, in)
	var bs []*branch
	for _, b := range targets {
		src, _ := netip.ParseAddrPort(b.Source)
		dst := reachAt(b.Transport, src, b.Contact)
		h, err := s.hopTo(b.Transport, dst)
		if err != nil {
			s.flowsLost.Add(1)
			continue
		}
		out := s.branchRequest(f.req, h, f.back, caller, callEnd{b.Transport, dst}, loop)
		u, err := contactTarget(b.Contact)
		if err != nil {
			continue
		}
		out.Recipient = u
		phone := b.MAC
		if phone == "" {
			phone = b.Contact
		}
		bs = append(bs, &branch{req: out, hop: h, phone: phone})
	}
	if len(bs) == 0 {
		f.respond(480, "Temporarily Unavailable")
		return
	}
	f.fork(bs)
}

// callerFlow is where the caller is reached within the call (reachAt by its Contact).
func callerFlow(req *sip.Request, in *inbound) callEnd {
	contact := ""
	if c := req.Contact(); c != nil {
		contact = "<" + c.Address.String() + ">"
	}
	return callEnd{in.transport, reachAt(in.transport, in.src, contact)}
}

// refuseCall answers a routed call that cannot ring, telling the observer it started
// and ended (call history shows unanswered attempts too).
func (s *Server) refuseCall(f *fwd, c *call, code int, reason string) {
	s.callStarted(c)
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
	s.event(c, CallEnded, nil, code)
	f.respond(code, reason)
}

func callUsers(tenant string, ids ...string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, tenant+"/"+id) {
			out = append(out, tenant+"/"+id)
		}
	}
	return out
}

// liveBindings gives the live bindings of the AORs, but not the caller's own (the
// phone the call comes from, by its flow).
func (s *Server) liveBindings(tenant string, aors []string, caller callEnd) []Binding {
	now := s.now()
	var out []Binding
	for _, name := range aors {
		a := s.bindings.get(tenant, name, false)
		if a == nil {
			continue
		}
		a.mu.Lock()
		for _, b := range a.live(now) {
			if b.Source == caller.addr.String() && b.Transport == caller.transport {
				continue
			}
			out = append(out, *b)
		}
		a.mu.Unlock()
	}
	return out
}

// contactTarget parses a binding's contact URI as the branch's Request-URI.
func contactTarget(contact string) (sip.Uri, error) {
	var u sip.Uri
	err := sip.ParseUri(contactURI(contact), &u)
	return u, err
}

// branchRequest is the copy of req sent by hop h (RFC 3261 §16.6): Max-Forwards one
// less, the phone's Route set and our credentials removed (we route by the dialplan;
// Proxy-Authorization for our realm goes no further, §22.3), identity headers from
// the phone dropped (RFC 3325 §5), our Record-Route with the call's route token (one,
// or two when the two sides differ in transport: RFC 5658 double record-routing), and
// our Via.
func (s *Server) branchRequest(req *sip.Request, h, back *hop, caller, callee callEnd, loop string) *sip.Request {
	out := req.Clone()
	mf := sip.MaxForwardsHeader(70)
	if m := req.MaxForwards(); m != nil {
		mf = sip.MaxForwardsHeader(m.Val() - 1)
	}
	removeHeaders(out, "Max-Forwards", "Route", "Proxy-Authorization", "P-Asserted-Identity", "P-Preferred-Identity")
	out.AppendHeader(&mf)
	ftag, _ := req.From().Params.Get("tag")
	token := s.proxy.sealRoute(caller, callee, ftag)
	if back.transport != h.transport || back.local != h.local {
		out.PrependHeader(s.recordRouteFor(back, token, ftag))
	}
	out.PrependHeader(s.recordRouteFor(h, token, ftag))
	out.PrependHeader(s.viaFor(h, s.proxy.sealBranch(loop, req.CallID().Value(), req.Via())))
	return out
}

// removeHeaders drops every header of the names given, however the sender spelled them.
func removeHeaders(m interface {
	Headers() []sip.Header
	RemoveHeader(string) bool
}, names ...string) {
	for {
		var found string
		for _, h := range m.Headers() {
			for _, n := range names {
				if strings.EqualFold(h.Name(), n) {
					found = h.Name()
				}
			}
			if found != "" {
				break
			}
		}
		if found == "" || !m.RemoveHeader(found) {
			return
		}
	}
}
