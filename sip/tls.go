package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"
)

// tlsHandshakeTimeout bounds a TLS handshake: a client that opens a connection and
// says nothing holds it no longer than this (RFC 3261 §26.2: SIP over TLS).
const tlsHandshakeTimeout = 10 * time.Second

// ServeTLS answers SIP over TLS (RFC 3261 §26.2, RFC 5630 §3: sips and transport=tls)
// on a listener the caller bound, until ctx is cancelled. conf is the server side of
// the handshake (the appliance's certificate). Each connection is then read like a SIP
// over TCP connection: framed by Content-Length, under the same connection caps, and
// requests to the phones registered over it leave by it (RFC 5626 §5.3).
func (s *Server) ServeTLS(ctx context.Context, l net.Listener, conf *tls.Config) error {
	if conf == nil {
		return errors.New("sip: ServeTLS needs a TLS configuration")
	}
	return s.serveStream(ctx, l, conf)
}

// handshake runs the server side of the TLS handshake within tlsHandshakeTimeout; a
// failed one closes the connection (reported at debug level: scanners do it all day).
func (s *Server) handshake(ctx context.Context, tc *tcpConn, key flowKey) bool {
	tc.c.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
	hctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
	defer cancel()
	if err := tc.c.(*tls.Conn).HandshakeContext(hctx); err != nil {
		s.log.Debug("sip tls handshake failed", "remote", key.src, "err", err)
		s.dropConn(tc, key)
		return false
	}
	tc.c.SetDeadline(time.Time{})
	return true
}

// FlowsLost counts the requests (check-sync NOTIFY) not sent because the TCP or TLS
// connection of the phone's binding was gone: a phone that registered over a
// connection is reached over it only, never over another transport in clear.
func (s *Server) FlowsLost() uint64 { return s.flowsLost.Load() }
