package sip

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// hop is one next hop of the proxy: a transport and an address, reached over one of our
// UDP sockets or over an open TCP/TLS connection (a flow, RFC 5626 §3.1). It is the
// sip.Connection sipgo's transactions write through, so they run over our own sockets.
type hop struct {
	transport string // "UDP", "TCP" or "TLS"
	dst       netip.AddrPort
	local     netip.AddrPort
	write     func(b []byte, to netip.AddrPort) error
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// LocalAddr is the address our side of the hop sends from.
func (h *hop) LocalAddr() net.Addr {
	if h.transport == "UDP" {
		return net.UDPAddrFromAddrPort(h.local)
	}
	return net.TCPAddrFromAddrPort(h.local)
}

// WriteMsg serialises and sends one message.
func (h *hop) WriteMsg(m sip.Message) error {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	m.StringWrite(b)
	err := h.write(b.Bytes(), h.dst)
	bufPool.Put(b)
	return err
}

// The connection outlives every transaction on it: references are not counted.
func (h *hop) Ref(int) int            { return 1 }
func (h *hop) TryClose() (int, error) { return 1, nil }
func (h *hop) Close() error           { return nil }

// errNoFlow: the TCP or TLS connection of a binding has closed; a phone behind NAT
// can be reached over that connection only (RFC 5626 §5.3).
var errNoFlow = errors.New("the connection of the binding is gone")

// hopOf is the hop a request came in by: answers go back to its source (RFC 3581 §4).
func hopOf(in *inbound) *hop {
	return &hop{transport: in.transport, dst: in.src, local: in.local, write: in.write}
}

// hopTo finds how to reach transport/dst: over UDP from our socket of the same address
// family, over TCP or TLS by the open connection from that address only.
func (s *Server) hopTo(transport string, dst netip.AddrPort) (*hop, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch transport {
	case "TCP", "TLS":
		tc := s.tcp[flowKey{transport, dst}]
		if tc == nil {
			return nil, errNoFlow
		}
		local, _ := netip.ParseAddrPort(tc.c.LocalAddr().String())
		return &hop{transport: transport, dst: dst, local: unmapped(local),
			write: func(b []byte, _ netip.AddrPort) error { return tc.write(b) }}, nil
	case "UDP":
		var pick *udpSocket
		var local netip.AddrPort
		for _, u := range s.udp {
			a, _ := netip.ParseAddrPort(u.pc.LocalAddr().String())
			a = unmapped(a)
			if pick == nil || (a.Addr().Is4() == dst.Addr().Is4() && local.Addr().Is4() != dst.Addr().Is4()) {
				pick, local = u, a
			}
		}
		if pick == nil {
			return nil, errors.New("no UDP socket to send from")
		}
		return &hop{transport: "UDP", dst: dst, local: local, write: pick.writeTo}, nil
	}
	return nil, fmt.Errorf("transport %q not served", transport)
}

func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// hostPort is how our side of h is named in a Via or Record-Route: its address, or the
// public host when the socket is bound to every address.
func (s *Server) hostPort(h *hop) (string, int) {
	host := s.cfg.PublicHost
	if a := h.local.Addr(); a.IsValid() && !a.IsUnspecified() {
		host = a.String()
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return host, int(h.local.Port())
}

// viaFor is our Via for a request leaving by h (RFC 3261 §16.6 step 8), with rport so
// the answer comes back through the NAT binding the request opened (RFC 3581 §3).
func (s *Server) viaFor(h *hop, branch string) *sip.ViaHeader {
	host, port := s.hostPort(h)
	v := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: h.transport,
		Host: host, Port: port, Params: sip.NewParams()}
	v.Params.Add("branch", branch)
	v.Params.Add("rport", "")
	return v
}

// recordRouteFor names us, as seen from the hop h, with the route token (RFC 3261
// §16.6 step 4, loose routing: lr).
func (s *Server) recordRouteFor(h *hop, token, ftag string) *sip.RecordRouteHeader {
	host, port := s.hostPort(h)
	u := sip.Uri{Scheme: "sip", Host: host, Port: port, UriParams: sip.NewParams()}
	if h.transport != "UDP" {
		u.UriParams.Add("transport", strings.ToLower(h.transport))
	}
	u.UriParams.Add("lr", "")
	u.UriParams.Add(routeParam, token)
	u.UriParams.Add("ftag", ftag)
	return &sip.RecordRouteHeader{Address: u}
}

// markReceived writes received and rport into the top Via of a request we received
// (RFC 3261 §18.2.1, RFC 3581 §4), so every answer we forward names where it goes.
func markReceived(req *sip.Request, src netip.AddrPort) {
	via := req.Via()
	if via == nil {
		return
	}
	if _, ok := via.Params.Get("rport"); ok {
		via.Params.Add("rport", strconv.Itoa(int(src.Port())))
		via.Params.Add("received", src.Addr().String())
	} else if via.Host != src.Addr().String() {
		via.Params.Add("received", src.Addr().String())
	}
	req.SetSource(src.String())
}

// reachAt is where a phone is sent requests (RFC 3261 §8.1.2 and RFC 5626 §5.3): over
// TCP or TLS its connection; over UDP the Contact it gave, when that names the very
// address its messages come from (it listens where it says: a phone that registers
// from one port and listens on another, as SIPp's register-to does), else the source
// address and port, since a Contact naming another address is a private one behind a
// NAT (as Kamailio's nat_uac_test 1 and 2 tell) and only the NAT's binding reaches it.
func reachAt(transport string, src netip.AddrPort, contact string) netip.AddrPort {
	if transport != "UDP" {
		return src
	}
	var u sip.Uri
	if sip.ParseUri(contactURI(contact), &u) != nil {
		return src
	}
	a, err := netip.ParseAddr(strings.Trim(u.Host, "[]"))
	if err != nil || a.Unmap() != src.Addr() {
		return src
	}
	port := u.Port
	if port <= 0 || port > 65535 {
		port = 5060
	}
	return netip.AddrPortFrom(src.Addr(), uint16(port))
}
