package store

import (
	"slices"
	"strings"
)

// SIPTransports are the values of a tenant's sip_transport: how its phones register
// (udp, tcp, or tls: RFC 3261 §26.2, on the --sips port).
var SIPTransports = []string{"udp", "tcp", "tls"}

// SRTPModes are the values of a tenant's srtp: off, optional (offered, plain RTP
// accepted) or required (a call without SRTP fails), RFC 3711 with SDES keys (RFC 4568).
var SRTPModes = []string{"off", "optional", "required"}

// Transport is the tenant's sip_transport, "udp" when unset.
func (t Tenant) Transport() string {
	if t.SIPTransport == "" {
		return "udp"
	}
	return t.SIPTransport
}

// SRTPMode is the tenant's srtp, "off" when unset.
func (t Tenant) SRTPMode() string {
	if t.SRTP == "" {
		return "off"
	}
	return t.SRTP
}

// checkSIPSecurity normalises sip_transport and srtp (case, spaces) and refuses any
// other value, naming the field.
func checkSIPSecurity(t *Tenant) error {
	if v := strings.ToLower(strings.TrimSpace(t.SIPTransport)); v == "" || slices.Contains(SIPTransports, v) {
		t.SIPTransport = v
	} else {
		return invalid("sip_transport", "%q: one of %s", t.SIPTransport, strings.Join(SIPTransports, " | "))
	}
	if v := strings.ToLower(strings.TrimSpace(t.SRTP)); v == "" || slices.Contains(SRTPModes, v) {
		t.SRTP = v
	} else {
		return invalid("srtp", "%q: one of %s", t.SRTP, strings.Join(SRTPModes, " | "))
	}
	return nil
}
