// Package tlscert holds the appliance's one certificate, used by every TLS listener
// (HTTPS provisioning and console, LDAPS and StartTLS, SIP over TLS). A listener takes
// Manager.ServerConfig, whose GetCertificate returns the certificate in use at each
// handshake, so a reloaded or renewed certificate is used from the next handshake on,
// without a restart and without touching the listeners.
//
// # Where the certificate comes from
//
// One of three sources, chosen at start:
//
//   - The admin's files (--tls-cert, --tls-key: a PEM chain and its key). They are read
//     again on SIGHUP and when the poll (every few seconds: identity, size and
//     modification time of both files) sees either change. A file that cannot be used —
//     unreadable, not PEM, a key of another certificate, expired, not for TLS servers —
//     is refused with a log line naming the file and the reason, and the certificate in
//     use stays. Write the key first and the certificate second (each atomically, by
//     rename): a poll between the two sees a mismatch, refuses it, and takes the pair on
//     the next look.
//   - ACME (--acme-domain NAME, RFC 8555) for an appliance reachable from the internet,
//     through golang.org/x/crypto/acme/autocert: the challenge is TLS-ALPN-01 (RFC 8737),
//     answered on the HTTPS listener itself (ServerConfig offers its ALPN protocol), so
//     NAME must resolve to this host and reach port 443. The start checks that the ACME
//     CA answers (its directory, within a short timeout) and fails with an error naming
//     the CA and the domain when it does not — unless a certificate is in the cache
//     ({data}/tls/acme), which is then served while renewal is retried. Names no public
//     CA can check (addresses, single labels, .local, .lan, .home.arpa …) are refused
//     before any network call. autocert was picked over certmagic because it lives in
//     x/crypto, already a dependency (it adds only x/text), where certmagic brings a
//     dozen modules for storage backends and DNS providers a phone system does not use.
//     A client that sends no server name (a phone given the address) is answered with
//     the one domain's certificate.
//   - Otherwise a private CA, made on the first start under {data}/tls: ca.pem and
//     ca.key (ECDSA P-256, ten years, "Dialtone CA {public host}", path length 0), and
//     server.pem (the server certificate followed by the CA) and server.key, signed by
//     it for the public host, the addresses the listeners are bound to, localhost,
//     127.0.0.1 and ::1. Keys are written mode 0600 through internal/atomicfile; the
//     CA's key is written before its certificate, so a crash between leaves a key
//     without a certificate, which the next start reports rather than silently making
//     another CA (phones trusting the old one would stop connecting). The server
//     certificate lives 397 days (under the CA/Browser Forum's 398-day ceiling, which
//     some clients enforce even for private roots) and is replaced once less than a
//     third of its life is left (checked hourly and on SIGHUP), or at a start whose host
//     list it does not cover. The CA's SHA-256 fingerprint is logged at every start.
//
// # Why a private CA
//
// A phone system lives on a LAN, often under a bare address or a name no public CA can
// check, and phones refuse self-signed server certificates when told to verify. A CA of
// the appliance's own, installed once in each phone's trusted certificates, lets the
// server certificate change (renewal, a new address) without touching a phone again.
// Its fingerprint, logged at start and shown in the API, lets an admin check the CA a
// phone or browser fetched from /ca.pem over plain HTTP is the one the appliance made.
// CAPEM and Fingerprint give the certificate to trust: the private CA; with the admin's
// files, the last certificate of the chain in the file (the admin's CA when the file
// carries it); nothing with ACME, whose public roots phones already trust.
//
// # Installing the CA in phones
//
// Each make has a setting for a custom trusted CA. Provisioning writes these keys into
// the configs when the CA is the private one (all but Fanvil and Gigaset), pointing at /ca.pem on plain HTTP (a phone cannot fetch its
// trust anchor over a TLS connection it cannot yet verify) or carrying the PEM inline:
//
//   - Yealink: static.trusted_certificates.url = http://{host}/ca.pem, then
//     static.security.ca_cert = 1 (custom certificates) or 2 (built-in and custom), and
//     static.security.trust_certificates = 1 to verify servers at all.
//   - Poly (UC Software): device.sec.TLS.customCaCert1 = the PEM inline, with
//     device.sec.TLS.customCaCert1.set = 1; the application profile that lists it
//     (sec.TLS.profile.*.caCertList) selected for provisioning, SIP and LDAP
//     (device.sec.TLS.profileSelection.*, sec.TLS.profileSelection.*).
//   - Snom: a <certificates> section of the settings XML, each
//     <certificate url="http://{host}/ca.pem"/> or with the base64 DER inline
//     (type="base64").
//   - Cisco MPP (3PCC): Custom_CA_Rule = http://{host}/ca.pem (fetched at resync).
//   - Grandstream: the trusted CA certificate slots, P8433 first, PEM inline (check the
//     slot numbers per model's config template).
//   - Fanvil: not written. No source names a Fanvil configuration key that installs a
//     custom CA; admins upload ca.pem on the phone's web page or set the key as a raw
//     setting.
//   - Gigaset (Nx70): a <certificates><certificate url="…"/></certificates> section of
//     the provisioning XML, like Snom's.
//
// Old phone firmware may not speak ECDSA; an admin with such phones gives an RSA
// certificate of their own through --tls-cert and --tls-key.
//
// # The server configuration
//
// ServerConfig is every listener's tls.Config, built by one function with options:
// TLS 1.2 and 1.3 (1.3 is chosen whenever the client offers it); in 1.2 only ECDHE key
// exchange with AEAD ciphers (RFC 9325 section 4.2), ECDSA suites first; X25519 then
// P-256; session tickets on, so a phone that comes back resumes without a full
// handshake (RFC 8446 section 2.2; Go rotates the ticket keys itself). RequestClientCert
// asks for a client certificate without requiring it (provisioning's device-certificate
// check: a phone without one still connects); NextProtos sets ALPN.
//
// TLS 1.3 stays first although its resumption costs more than TLS 1.2's: it always
// carries an X25519 exchange (psk_dhe_ke, RFC 8446 section 4.2.9: Go's server resumes
// no other way and OpenSSL's client offers no other), where a TLS 1.2 resumption from a
// ticket has none. That buys forward secrecy for every resumed fetch (a phone's config
// carries its SIP password) and keeps a phone's device certificate, MAC and all,
// encrypted in a full handshake (RFC 8446 section 4.4.2), which TLS 1.2 sends in clear.
// In a profile of make bench's HTTPS part with `Connection: close` (every fetch a TLS 1.3
// resumption) the two X25519 operations were 22 % of the server's CPU, the Go scheduler
// (sysmon, finding work for the next goroutine) 28 %, reads, writes, accept and close
// most of the rest. The client certificate is asked for in full handshakes only: no
// resumption, in either version, has a CertificateRequest. Go makes a new session
// ticket at every resumption (so an observer cannot link a phone's connections by its
// ticket); opening and making it was 2 to 4 % of the server's CPU per resumed fetch in
// TLS 1.2 and 1.3, so tickets are left to Go (no WrapSession or UnwrapSession).
//
// Each write leaves in one record of up to 16 KiB (DynamicRecordSizingDisabled), as
// nginx's default ssl_buffer_size does. Go's default sends a connection's first
// 128 KiB in records that each fit one TCP segment, growing by a segment per record,
// for browsers that render a page while it arrives; a config is of no use to a phone
// until it is whole. With the default a 4.3 KiB config went out as three records, each
// sealed and written on its own, on every fresh connection — that is, on every fetch of
// a phone that connects once per file. Measured with the load of make bench's HTTPS
// part (wrk, 64 connections, `Connection: close`, TLS 1.3, a 4.3 KiB config) on a shared
// two-core machine, the two builds in turn, the server's CPU time per fetch: 356 µs
// against 423 µs (medians of six runs), lower in eight runs of ten; no change with
// kept-alive connections.
package tlscert
