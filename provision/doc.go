// Package provision hands desk phones their configuration over HTTP and TFTP.
//
// It owns:
//   - detection: which make, model, firmware and MAC a request comes from, from the
//     file name asked for (each make's names, detect.go), the User-Agent (useragent.go)
//     and the MAC's OUI (oui.go);
//   - rendering: a Profile (the view of one phone's tenant, user lines, language,
//     time zone, phonebook, firmware and raw settings, built by the caller) goes
//     through the make's text/template from package templates (or an override file
//     of the same name) into bytes (render.go, timezone.go, language.go);
//   - serving: a fasthttp handler for /p/{token}/... (http.go) and a read-only TFTP
//     server (tftp.go, RFC 1350/2347/2348/2349/7440);
//   - the render cache, the provisioning log, discovered phones and the unknown-MAC
//     throttle (provisioner.go, cache.go, parsememo.go, throttle.go).
//
// What a client can cost is bounded. The render cache is keyed by what a file depends
// on — tenant, file, detected make and model (and for Yealink's y000000000000.boot the
// MAC its User-Agent names) — never by the User-Agent itself, and holds at most
// Config.RenderCacheBytes (64 MiB), least recently used first. The unknown-MAC throttle
// is a ratelimit.Strikes over sources (an IPv6 /64 is one): more than 20 distinct
// unknown MACs a minute block the source for 10 minutes. TFTP honours a timeout option
// of at most 10 s (a larger one is left out of the OACK, RFC 2349 and RFC 2347), runs at
// most 8 transfers per source (ratelimit.Conns) and ends any transfer after
// Config.TFTPTransferTime (10 minutes).
//
// It does not own the records it renders from (package store), the LDAP or XML
// phonebook contents (it declares Phonebooks; ldapdir implements it), nor SIP
// check-sync NOTIFYs (sip listens to the store's change events).
//
// The phonebook in a phone's file is plain LDAP on Config.LDAPPort, or LDAPS on
// Config.LDAPSPort when the tenant sets phonebook_ldaps and an LDAPS listener exists,
// written in each make's keys (Phonebook.Server, HostPort, TLSMode, Transport).
//
// Unknown MACs never receive secrets: files without a MAC (common files) carry no
// SIP, LDAP or admin passwords, and a per-phone file is only rendered for a phone
// the tenant knows.
//
// HTTPS: a fetch over TLS is logged with protocol https. A tenant with
// provisioning_https_only is refused a known phone's own file (the files with secrets)
// over plain HTTP (403 naming the https:// URL) and TFTP (access violation); common
// files, firmware and phonebooks are still served, and its configs carry SecureBaseURL
// instead of BaseURL. With the private CA (Config.CAPEM), configs carry each make's key
// for a custom trusted CA (Yealink static.trusted_certificates.url, Cisco Custom_CA_Rule,
// Snom <certificates>, Poly device.sec.TLS.customCaCert1, Grandstream P8433), pointing
// at BaseURL/ca.pem on plain HTTP or carrying the PEM.
//
// A panic while parsing a TFTP request or during its transfer ends that transfer only
// and is answered with a TFTP error (code 0, "internal error"); over HTTP, cmd/dialtone's
// handler answers 500 (internal/crash). The fetch-log writer is started again after one.
//
// Stats reads what the provisioner counts for metrics: TFTP transfers by how they ended,
// and the render cache's hits, misses, bytes and entries.
package provision
