package tlscert

import (
	"crypto/tls"
	"slices"

	"golang.org/x/crypto/acme"
)

// A ServerOption adjusts the tls.Config ServerConfig builds.
type ServerOption func(*tls.Config)

// RequestClientCert asks the client for a certificate (a phone's factory device
// certificate) without requiring one: a phone that has none still connects, and the
// handler decides what it may fetch. Any certificate sent is handed over unverified in
// ConnectionState().PeerCertificates; the caller verifies it against the CAs it trusts.
func RequestClientCert() ServerOption {
	return func(c *tls.Config) { c.ClientAuth = tls.RequestClientCert }
}

// NextProtos sets the ALPN protocols offered (RFC 7301), e.g. "http/1.1".
func NextProtos(protos ...string) ServerOption {
	return func(c *tls.Config) { c.NextProtos = append(c.NextProtos, protos...) }
}

// ServerConfig is the tls.Config of every TLS listener: the Manager's certificate at each
// handshake; TLS 1.2 and 1.3 (1.3 is chosen whenever the client offers it); in TLS 1.2
// only ECDHE key exchange with AEAD ciphers (RFC 9325 section 4.2), ECDSA first;
// X25519 then P-256 for the key exchange; session tickets on, so a phone that comes back
// resumes without a full handshake (RFC 8446 section 2.2); each write in one record (a
// config leaves in one record and one system call: see the package doc). Each call
// returns a new Config.
func (m *Manager) ServerConfig(opts ...ServerOption) *tls.Config {
	c := &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
		CurvePreferences:       []tls.CurveID{tls.X25519, tls.CurveP256},
		GetCertificate:         m.GetCertificate,
		SessionTicketsDisabled: false,
		// One record per write, up to 16 KiB (package doc).
		DynamicRecordSizingDisabled: true,
	}
	for _, o := range opts {
		o(c)
	}
	if m.acme != nil && !slices.Contains(c.NextProtos, acme.ALPNProto) {
		// The TLS-ALPN-01 challenge (RFC 8737) arrives on this listener.
		c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	}
	return c
}
