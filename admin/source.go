package admin

import (
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// source is the client's address: the peer, or, when the peer is a configured proxy,
// the right-most address in X-Forwarded-For that is not itself a trusted proxy.
func (a *API) source(ctx *fasthttp.RequestCtx) string {
	peer, ok := netip.AddrFromSlice(ctx.RemoteIP())
	if !ok {
		return ctx.RemoteAddr().String()
	}
	peer = peer.Unmap()
	if !a.trusted(peer) {
		return peer.String()
	}
	xff := string(ctx.Request.Header.Peek("X-Forwarded-For"))
	hops := strings.Split(xff, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: trust nothing before it
		}
		h = h.Unmap()
		if !a.trusted(h) {
			return h.String()
		}
	}
	return peer.String()
}

func (a *API) trusted(ip netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
