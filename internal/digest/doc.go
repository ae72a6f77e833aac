// Package digest holds what HTTP and SIP Digest authentication (RFC 7616, RFC 3261
// §22.4) share: stateless nonces (a timestamp, a sequence number and an HMAC under a
// per-process key, RFC 7616 §3.3) with a bounded nc replay window (§3.4). A nonce is
// valid for NonceLifetime; after that a request carrying it gets a fresh challenge with
// stale=true. Package sip parses its own headers on its hot path; package provision
// challenges phones fetching their files.
package digest
