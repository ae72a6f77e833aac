// Package sip is Dialtone's registrar: it owns the SIP listeners (UDP and TCP), the
// server side of digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), the binding
// table (RFC 3261 §10.3) kept in memory and persisted with a TTL through the store, the
// check-sync NOTIFY that makes a phone re-provision, and the flex-login feature codes
// (*55*{ext}*{pin}, *56) dialled from phones.
//
// It does not own the flex login rules themselves (which user may log in where, PIN
// locks, auto-logout): those sit behind the FlexDesk interface that cmd/dialtone wires.
// It proxies no calls: an INVITE that is not a feature code is refused.
//
// # Transports
//
// sipgo's sip package parses every message (sip.Parser) and gives the message model;
// the sockets are read by this package itself. Over UDP a REGISTER is answered
// statelessly, the way Kamailio's sl module does: no server transaction, no goroutine
// and no connection-pool entry per source address, so a flood from many source ports
// costs nothing that outlives the datagram. Retransmissions of a REGISTER are answered
// as their originals were (retransmit.go); retransmitted INVITEs get the cached final
// answer (a small bounded cache by Via branch). An answer copies the request's Via,
// From, To, Call-ID and CSeq lines as received (reply.go); a request whose top Via does
// not read strictly is dropped. A first REGISTER in plain form (no credentials) is
// challenged straight from the datagram, without sipgo's parser (fastpath.go). With
// that the registrar keeps up with Kamailio under SIPp's register-auth load
// (bench/sip.sh).
//
// Requests we send (NOTIFY check-sync) leave from the listening socket, so they pass
// the NAT pinhole the phone's registration opened, and their answers are matched by the
// Via branch (RFC 3261 §17.1.2, non-INVITE client transaction with Timer E/F).
//
// # Security
//
// Nonces are stateless: a timestamp, a sequence number and an HMAC under a per-process
// key. Each nc is accepted once per nonce; the replay window is a fixed-size ring, so
// its memory is bounded whatever the load. An unknown user and a wrong password get the
// same answer. Ten failures a minute from one address block that address for ten
// minutes (logged once per block). Secrets never reach a log line. One source holds at
// most Config.TCPConnsPerSource SIP-over-TCP connections (default 32, the phones behind an
// office NAT); one over it is closed before a byte is read (internal/ratelimit.Listener).
package sip
