package sip

import (
	"context"

	"github.com/emiago/sipgo/sip"
)

// toUpstream hands an outside or emergency call to the tenant's upstream: the
// Request-URI user is Route.Number, P-Asserted-Identity names Route.CallerID (RFC 3325
// §9.1: we assert it, the phone's own identity headers were dropped), the From is the
// caller's as sent (its tag and URI are the caller's dialog state). A 401 or 407 from
// the upstream is answered once with the upstream's credentials, the request sent again
// with a new branch and the same CSeq (as Kamailio's uac_auth does by default). An
// emergency call is never refused by the call limits; with no upstream it is answered
// 503 and logged at warn, since somebody dialled for help and got nowhere.
func (s *Server) toUpstream(f *fwd, in *inbound, t *tenantInfo, c *call, loop string) {
	emergency := c.route.Kind == RouteEmergency
	var target UpstreamTarget
	ok := false
	if s.cfg.Upstreams != nil {
		target, ok = s.cfg.Upstreams.Target(t.slug)
	}
	if !ok {
		if emergency {
			s.log.Warn("emergency call not placed: the tenant has no upstream", "tenant", t.slug,
				"account", c.caller.Username, "number", c.route.Number)
		}
		s.refuseCall(f, c, 503, "No upstream for outside calls")
		return
	}
	port := target.Port
	if port == 0 {
		port = 5060
		if target.Transport == "TLS" {
			port = 5061
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), routeTimeout)
	dst, err := resolveUpstream(ctx, target.Host, port)
	cancel()
	if err != nil {
		s.log.Warn("upstream not reachable", "tenant", t.slug, "host", target.Host, "err", err, "emergency", emergency)
		s.refuseCall(f, c, 503, "Upstream not reachable")
		return
	}
	transport := target.Transport
	if transport == "" {
		transport = "UDP"
	}
	h, err := s.hopTo(transport, dst)
	if err != nil {
		s.log.Warn("upstream not reachable", "tenant", t.slug, "transport", transport, "err", err, "emergency", emergency)
		s.refuseCall(f, c, 503, "Upstream not reachable")
		return
	}
	c.users = callUsers(t.slug, c.caller.UserID)
	tenantMax, userMax := t.maxCalls(), t.maxCallsPerUser()
	if emergency {
		tenantMax, userMax = 1<<30, 1<<30
	}
	if r := s.proxy.calls.admit(c, tenantMax, userMax, ""); r.code != 0 {
		f.respond(r.code, r.reason)
		return
	}
	f.call = c
	s.callStarted(c)
	out := s.branchRequest(f.req, h, f.back, callerFlow(f.req, in), callEnd{transport, dst}, loop)
	domain := target.Domain
	if domain == "" {
		domain = target.Host
	}
	out.Recipient = sip.Uri{Scheme: "sip", User: c.route.Number, Host: domain}
	if target.Domain == "" && target.Port != 0 && target.Port != 5060 {
		out.Recipient.Port = target.Port
	}
	if c.route.CallerID != "" {
		pai := "<sip:" + c.route.CallerID + "@" + domain + ">"
		if c.route.CallerName != "" && validDisplayName(c.route.CallerName) {
			pai = `"` + c.route.CallerName + `" ` + pai
		}
		out.AppendHeader(sip.NewHeader("P-Asserted-Identity", pai))
	}
	b := &branch{req: out, hop: h, phone: "upstream"}
	if target.Username != "" {
		b.retry = func(res *sip.Response) *sip.Request { return s.upstreamAuth(out, res, target, loop) }
	}
	f.fork([]*branch{b})
}

// upstreamAuth is the request again with credentials for the upstream's challenge;
// nil when it sent none we can answer.
func (s *Server) upstreamAuth(sent *sip.Request, res *sip.Response, target UpstreamTarget, loop string) *sip.Request {
	hname, cred, _, ok := uacCredentials(res, string(sent.Method), sent.Recipient.String(), target.Username, target.Password)
	if !ok {
		return nil
	}
	next := sent.Clone()
	removeHeaders(next, "Authorization", "Proxy-Authorization")
	next.Via().Params.Add("branch", s.proxy.sealBranch(loop, sent.CallID().Value(), sent.GetHeaders("Via")[1].(*sip.ViaHeader)))
	next.AppendHeader(sip.NewHeader(hname, cred))
	return next
}

// validDisplayName: printable, no quote or backslash (it goes inside a quoted string).
func validDisplayName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			return false
		}
	}
	return true
}

// inboundCall routes an INVITE from the tenant's upstream to one of its numbers
// (Dialplan.Inbound); no digest: the upstream is trusted by its address.
func (s *Server) inboundCall(f *fwd, in *inbound, tenant, loop string) {
	t, err := s.accounts.tenant(tenant)
	if err != nil {
		f.respond(404, "Not Found")
		return
	}
	removeHeaders(f.req, "Proxy-Authorization")
	ctx, cancel := context.WithTimeout(context.Background(), routeTimeout)
	route, err := s.cfg.Dialplan.Inbound(ctx, tenant, f.req.Recipient.User)
	cancel()
	if err != nil {
		s.log.Warn("inbound call routing failed", "tenant", tenant, "err", err)
		f.respond(500, "Call routing failed")
		return
	}
	switch route.Kind {
	case RouteInternal:
	case RouteRefuse:
		code, reason := route.Code, route.Reason
		if code < 300 || code > 699 {
			code, reason = 404, "Not Found"
		}
		f.respond(code, reason)
		return
	default:
		f.respond(404, "Not Found") // never back out: no relay through us
		return
	}
	from := f.req.From().Address.User
	if pai := f.req.GetHeader("P-Asserted-Identity"); pai != nil {
		var u sip.Uri
		v := pai.Value()
		if i, j := indexByte(v, '<'), indexByte(v, '>'); i >= 0 && j > i {
			v = v[i+1 : j]
		}
		if sip.ParseUri(v, &u) == nil && u.User != "" {
			from = u.User
		}
	}
	c := &call{id: f.req.CallID().Value(), tenant: tenant, caller: Caller{Source: in.src}, from: from,
		to: f.req.Recipient.User, route: route, at: s.now()}
	c.key = callKey(c.id, callerFlow(f.req, in))
	s.forkInternal(f, in, t, c, loop)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
