package sip

import (
	"errors"
	"strings"

	"github.com/dialtone/dialtone/internal/digest"

	"github.com/emiago/sipgo/sip"
)

var errNotResponse = errors.New("not a response")

// proxyCancel answers a CANCEL (RFC 3261 §16.10): 200 at once, then the INVITE's server
// transaction answers 487 and every pending branch is cancelled. A CANCEL matching no
// INVITE of ours gets 481.
func (s *Server) proxyCancel(req *sip.Request, in *inbound, w *replyWriter) {
	f := s.proxy.server(serverKey(req, sip.INVITE))
	if f == nil {
		in.send(w.simple(481, "Call/Transaction Does Not Exist"))
		return
	}
	in.send(w.simple(200, "OK"))
	f.tx.Receive(req)
}

// proxyAck: an ACK matching an INVITE server transaction acknowledges our non-2xx
// answer and goes no further (RFC 3261 §17.2.1: hop by hop); any other ACK
// acknowledges a 2xx and follows the dialog's route.
func (s *Server) proxyAck(req *sip.Request, in *inbound, w *replyWriter) {
	if f := s.proxy.server(serverKey(req, sip.INVITE)); f != nil {
		f.mu.Lock()
		final := f.final
		f.mu.Unlock()
		if final >= 300 || final == 0 {
			f.tx.Receive(req)
			return
		}
	}
	s.proxyInDialog(req, in, w)
}

// proxyInDialog routes a request within a dialog by its Route (RFC 3261 §16.4, loose
// routing): the top entries naming us are removed, and the request goes to the other
// end of the call the route token names (proxy_route.go), statefully but for ACK.
// Without our Route it gets 481 (a To tag: a dialog we do not route) or 404; with a
// Route naming us whose token does not open, 403: nothing makes us relay elsewhere.
func (s *Server) proxyInDialog(req *sip.Request, in *inbound, w *replyWriter) {
	isAck := req.Method == sip.ACK
	// Our entry is the first with a route token. A phone with Dialtone as its outbound
	// proxy may put that proxy's Route before the dialog's route set (RFC 3261 §8.1.2):
	// entries before ours name us by another name and go. Nothing here can send the
	// request elsewhere: only a token we sealed names where it goes.
	routes := req.GetHeaders("Route")
	var token, ftag string
	ours, skip := false, 0
	for i, h := range routes {
		if i >= 4 {
			break
		}
		if r, ok := h.(*sip.RouteHeader); ok {
			if token, ftag, ours = ourRoute(r); ours {
				skip = i
				break
			}
		}
	}
	if !ours {
		if isAck {
			return
		}
		if _, ok := req.To().Params.Get("tag"); ok {
			in.send(w.simple(481, "Call/Transaction Does Not Exist"))
		} else {
			in.send(w.simple(404, "Not Found"))
		}
		return
	}
	callerEnd, calleeEnd, ok := s.proxy.openRoute(token, ftag)
	if !ok {
		if !isAck {
			in.send(w.simple(403, "Not a route of this server"))
		}
		return
	}
	for range skip {
		req.RemoveHeader("Route")
	}
	key := serverKey(req, req.Method)
	if !isAck {
		if f := s.proxy.server(key); f != nil {
			f.tx.Receive(req) // retransmission
			return
		}
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		if !isAck {
			in.send(w.simple(483, "Too Many Hops"))
		}
		return
	}
	// Pop every top Route entry that is ours (one, or two when double record-routed).
	for {
		r, ok := req.Route(), false
		if r != nil {
			var t string
			t, _, ok = ourRoute(r)
			ok = ok && t == token
		}
		if !ok {
			break
		}
		req.RemoveHeader("Route")
	}
	fromTag, _ := req.From().Params.Get("tag")
	target := calleeEnd
	if fromTag != ftag {
		target = callerEnd
	}
	h, err := s.hopTo(target.transport, target.addr)
	if err != nil {
		s.flowsLost.Add(1)
		if !isAck {
			in.send(w.simple(430, "Flow Failed")) // RFC 5626 §5.3
		}
		return
	}
	markReceived(req, in.src)
	req.SetTransport(in.transport)
	out := req.Clone()
	mf := sip.MaxForwardsHeader(70)
	if m := req.MaxForwards(); m != nil {
		mf = sip.MaxForwardsHeader(m.Val() - 1)
	}
	removeHeaders(out, "Max-Forwards")
	out.AppendHeader(&mf)
	s.dropOurCredentials(out)
	out.PrependHeader(s.viaFor(h, s.proxy.sealBranch(loopHash(req), req.CallID().Value(), req.Via())))
	out.SetTransport(h.transport)
	if isAck {
		h.WriteMsg(out) // an ACK for a 2xx is forwarded statelessly (RFC 3261 §16.11)
		return
	}
	if req.Method == sip.BYE {
		if c := s.proxy.calls.byKey(callKey(req.CallID().Value(), callerEnd)); c != nil {
			s.callEnded(c, 200)
		}
	}
	own := *in
	f := s.newFwd(req, &own, key)
	if f == nil {
		in.send(w.simple(503, "Service Unavailable"))
		return
	}
	f.fork([]*branch{{req: out, hop: h}})
}

// dropOurCredentials removes Proxy-Authorization headers for a realm we serve: some
// phones send them in every request of a dialog, and credentials for our realm go no
// further than us (RFC 3261 §22.3). Those for another realm (an upstream's) stay.
func (s *Server) dropOurCredentials(req *sip.Request) {
	for {
		var ours sip.Header
		for _, h := range req.Headers() {
			if !strings.EqualFold(h.Name(), "Proxy-Authorization") {
				continue
			}
			var c digest.Credentials
			if !digest.ParseCredentials(h.Value(), &c) {
				ours = h
				break
			}
			if _, err := s.accounts.tenantFor(c.Realm); err == nil {
				ours = h
				break
			}
		}
		if ours == nil {
			return
		}
		removeHeader(req, ours)
	}
}

// removeHeader drops the one header h.
func removeHeader(req *sip.Request, h sip.Header) {
	kept := make([]sip.Header, 0, len(req.Headers()))
	for _, x := range req.Headers() {
		if x != h {
			kept = append(kept, x)
		}
	}
	removeHeaders(req, h.Name())
	for _, x := range kept {
		if strings.EqualFold(x.Name(), h.Name()) {
			req.AppendHeader(x)
		}
	}
}
