package provision

import "github.com/dialtone/dialtone/store"

// How each make is told the tenant's SIP transport (sip_transport) and media encryption
// (srtp). The keys and values are the makes' own:
//
//   - Yealink: account.N.sip_server.1.transport_type 0 UDP, 1 TCP, 2 TLS;
//     account.N.srtp_encryption 0 disabled, 1 optional, 2 compulsory.
//   - Poly (UC Software): reg.N.server.1.transport UDPOnly, TCPOnly or TLS;
//     sec.srtp.enable, sec.srtp.offer, sec.srtp.require (0/1 each).
//   - Snom: user_outbound[N] host:port;transport=udp|tcp|tls; user_srtp[N] on/off and
//     user_savp[N] off, optional or mandatory (RTP/SAVP in the SDP offer).
//   - Cisco MPP: SIP_Transport_N_ UDP, TCP or TLS; Secure_Call_Serv Yes/No and
//     Secure_Call_Option_N_ Optional or Required.
//   - Grandstream: P130 0 UDP, 1 TCP, 2 TLS; P183 (SRTP mode) 0 disabled, 1 enabled
//     but not forced, 2 enabled and forced.
//   - Fanvil (sysConf XML): sip.line.N.Transport 0 UDP, 1 TCP, 3 TLS;
//     sip.line.N.MediaCrypto 0 disabled, 1 optional, 2 compulsory.
//
// With tls the line's port is the --sips port (5061 by default, RFC 3261 §26.2 and
// RFC 5630 §3: transport=tls, not a sips: AOR, so phones keep their sip: identities).

// sipPort is the port phones of tenant t register to: the SIP-over-TLS port with tls.
func (p *Provisioner) sipPort(t store.Tenant) int {
	if t.Transport() == "tls" {
		return p.cfg.SIPSPort
	}
	return p.cfg.SIPPort
}

// TransportCode is Yealink's and Grandstream's number for the transport: 0 UDP,
// 1 TCP, 2 TLS.
func (l Line) TransportCode() int {
	switch l.Transport {
	case "tcp":
		return 1
	case "tls":
		return 2
	}
	return 0
}

// FanvilTransport is Fanvil's number for the transport: 0 UDP, 1 TCP, 3 TLS.
func (l Line) FanvilTransport() int {
	switch l.Transport {
	case "tcp":
		return 1
	case "tls":
		return 3
	}
	return 0
}

// TransportUpper is the transport as Cisco spells it: UDP, TCP, TLS.
func (l Line) TransportUpper() string {
	switch l.Transport {
	case "tcp":
		return "TCP"
	case "tls":
		return "TLS"
	}
	return "UDP"
}

// PolyTransport is Poly's reg.N.server.1.transport: UDPOnly, TCPOnly or TLS.
func (l Line) PolyTransport() string {
	switch l.Transport {
	case "tcp":
		return "TCPOnly"
	case "tls":
		return "TLS"
	}
	return "UDPOnly"
}

// SRTPCode is Yealink's srtp_encryption, Fanvil's MediaCrypto and Grandstream's P183:
// 0 off, 1 optional, 2 required.
func (p *Profile) SRTPCode() int {
	switch p.SRTP {
	case "optional":
		return 1
	case "required":
		return 2
	}
	return 0
}

// SRTPOn is 1 when SRTP is offered (optional or required), else 0 (Poly's
// sec.srtp.enable and sec.srtp.offer).
func (p *Profile) SRTPOn() int { return min(p.SRTPCode(), 1) }

// SRTPRequired is 1 when calls without SRTP fail (Poly's sec.srtp.require).
func (p *Profile) SRTPRequired() int { return p.SRTPCode() / 2 }

// SnomSRTP is Snom's user_srtp: on when SRTP is offered.
func (p *Profile) SnomSRTP() string { return [...]string{"off", "on"}[p.SRTPOn()] }

// SnomSAVP is Snom's user_savp: off, optional or mandatory.
func (p *Profile) SnomSAVP() string {
	return [...]string{"off", "optional", "mandatory"}[p.SRTPCode()]
}

// CiscoSecureCall is Cisco's Secure_Call_Option_N_: Required when required, else
// Optional (Secure_Call_Serv turns SRTP on or off).
func (p *Profile) CiscoSecureCall() string {
	if p.SRTPCode() == 2 {
		return "Required"
	}
	return "Optional"
}
