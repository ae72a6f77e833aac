// Package digest holds what HTTP and SIP Digest authentication (RFC 7616, RFC 3261
// §22.4) share: stateless nonces (a timestamp, a sequence number and an HMAC under a
// per-process key, RFC 7616 §3.3) with a bounded nc replay window (§3.4). The HMAC
// also covers the realm and the client's address (an IPv6 client by its /64, as
// ratelimit.Source counts it), so a nonce answers only from where it was sent. A nonce is
// valid for NonceLifetime; after that a request carrying it gets a fresh challenge with
// stale=true. The one parser of Digest credentials (credentials.go: ParseCredentials,
// allocation-free, with the RFC 3261 / RFC 9110 token and quoted-string grammar SIP's
// own header scanners use too) serves the registrar's REGISTERs and provisioning's
// HTTP fetches alike.
package digest
