package sip

import (
	"crypto/hmac"
	"encoding/base64"
	"net/netip"

	"github.com/emiago/sipgo/sip"
)

// The Record-Route we put in a call's INVITE carries a route token: the two ends of the
// call as flows (transport and address: the caller's source, the callee's binding
// source or the upstream), sealed with an HMAC under a per-process key. An in-dialog
// request that comes back with that Route is sent to the other end's flow whatever
// its Request-URI says, so a phone behind NAT is reached at the address its
// registration came from, not at its private Contact (RFC 5626 §5.3, as Kamailio's
// nathelper and rr modules do). The direction is told by the From tag the token was
// made for (ftag, as Kamailio's rr module does): a request whose From tag is the
// caller's goes to the callee, any other to the caller. Since the token is sealed,
// a request that names us in its Route can only ever reach an end of a call we set
// up: no Route can make us relay elsewhere. Tokens die with the process: after a
// restart, in-dialog requests of earlier calls are answered 404 (the media, which
// never flows through us, is not cut).

const routeParam = "dt"

// callEnd is one end of a call: a flow (RFC 5626 §3.1), its transport and address.
type callEnd struct {
	transport string
	addr      netip.AddrPort
}

func transportByte(t string) byte {
	switch t {
	case "TCP":
		return 1
	case "TLS":
		return 2
	}
	return 0
}

func transportName(b byte) string {
	switch b {
	case 1:
		return "TCP"
	case 2:
		return "TLS"
	}
	return "UDP"
}

const tokenMAC = 10

// sealRoute makes the token naming caller and callee for the dialog whose caller's From
// tag is ftag.
func (p *proxy) sealRoute(caller, callee callEnd, ftag string) string {
	b := make([]byte, 0, 2*19+tokenMAC)
	for _, f := range [2]callEnd{caller, callee} {
		a := f.addr.Addr().As16()
		b = append(b, transportByte(f.transport))
		b = append(b, a[:]...)
		b = append(b, byte(f.addr.Port()>>8), byte(f.addr.Port()))
	}
	b = append(b, p.routeMAC(b, ftag)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *proxy) routeMAC(payload []byte, ftag string) []byte {
	m := p.mac.get()
	m.Write(payload)
	m.Write([]byte{0})
	m.Write([]byte(ftag))
	sum := m.Sum(nil)[:tokenMAC]
	p.mac.put(m)
	return sum
}

// openRoute checks a token against ftag and gives the two ends.
func (p *proxy) openRoute(token, ftag string) (caller, callee callEnd, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 2*19+tokenMAC {
		return callEnd{}, callEnd{}, false
	}
	payload, mac := b[:2*19], b[2*19:]
	if !hmac.Equal(mac, p.routeMAC(payload, ftag)) {
		return callEnd{}, callEnd{}, false
	}
	var fs [2]callEnd
	for i := range fs {
		c := payload[i*19:]
		a := netip.AddrFrom16([16]byte(c[1:17])).Unmap()
		fs[i] = callEnd{transport: transportName(c[0]), addr: netip.AddrPortFrom(a, uint16(c[17])<<8|uint16(c[18]))}
	}
	return fs[0], fs[1], true
}

// ourRoute reads the token and ftag of a Route entry if it names us.
func ourRoute(r *sip.RouteHeader) (token, ftag string, ok bool) {
	if r == nil || r.Address.UriParams == nil {
		return "", "", false
	}
	token, ok = r.Address.UriParams.Get(routeParam)
	if !ok || token == "" {
		return "", "", false
	}
	ftag, _ = r.Address.UriParams.Get("ftag")
	return token, ftag, true
}
