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
// Plug-and-play (pnp.go): PnP answers which URL a phone that sent a SIP ua-profile
// SUBSCRIBE (package sip answers it) is given: the tenant whose pnp_subnets hold its
// address (or the default tenant for an unclaimed address, when it claims none and the
// caller allows it), the make by the MAC's OUI, the tenant's folder URL (Snom: its own
// {MAC}.xml). An unknown MAC is recorded as discovered, under the unknown-MAC throttle;
// each answer is logged in the provisioning log as "SUBSCRIBE ua-profile" over sip.
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
// the tenant knows. Each phone has its own web admin password.
//
// Who may fetch (fetch.go, auth.go):
//   - the tenant's provisioning token, or the one before its last rotation until the
//     grace the admin picked ends (checked against Config.Now on every fetch);
//   - TFTP names without a token reach tenant default only when its tftp_bare_names
//     is on;
//   - with provisioning_auth "digest", a phone's own file needs its HTTP Digest
//     credentials (RFC 7616; user name the MAC; SHA-256 and MD5 offered, nonces from
//     internal/digest, each bound to the address it was sent to) except once: the first fetch before the credentials were ever
//     handed out, so the phone learns them from its config. TFTP cannot authenticate
//     and is refused such a file after that. Wrong credentials are strikes on the
//     source (ratelimit.Strikes: 10 a minute block it for 10 minutes, 429);
//   - XML phonebooks: directory/{mac}/{make}.xml for a known phone of the tenant
//     (the checks of its config; what configs point at), directory/{make}.xml with
//     the tenant's phonebook account over HTTP Basic (RFC 7617; over HTTPS only when
//     ldap_phonebook_cleartext is off); mobile numbers only with the tenant's
//     phonebook_mobile.
//
// The provisioning-server credential keys written per make: Yealink
// static.auto_provision.server.username/password, Poly device.prov.user/password,
// Snom the userinfo of setting_server's URL, Cisco [--uid --pwd] in Profile_Rule,
// Grandstream P1359/P1360, Fanvil <ap><DefaultUsername>/<DefaultPassword>.
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
// Firmware: a model's target (store.ModelProfile.Firmware) is written into the common and
// the phone files; a staged firmware (StageFirmware, for listed MACs or a percentage by
// MAC hash) only into the own file of the phones in the stage, which every make reads
// after the common file. A firmware download is logged with the phone (by the MAC its
// User-Agent names, when the tenant knows it), what it runs and the image and version it
// fetched (ProvisionLogEntry.Image, ImageVersion). Config.OnFetch hears of every file
// served to a known phone (the registrar's remote actions mark a phone "fetched").
//
// Keys (keys.go): each line of a phone gets a line key, then the user's BLF and
// speed-dial keys (store.PhoneKey; for a flex phone those of the user logged in) follow
// in the make's key syntax; keys left from an earlier config are cleared where the make
// allows (Yealink, Snom, Cisco, Grandstream, Fanvil). Fanvil keys fill the model's line
// keys beside the screen (<dssSide index="1">), then its function-key pages
// (<internal index="page">), as its row counts (FixedKeys, Keys, PageKeys), the rest
// cleared with type 0; a model without counts gets its lines beside the screen and the
// user's keys on page 1. Grandstream keys fill the model's virtual,
// then physical multi-purpose keys, then its extension boards' keys, as many as its row
// of the model table counts (Model.Keys, FixedKeys, SideKeys, ExtKeys; Profile.Layout).
// Poly speed dials are contacts with a speed-dial index in the phone's contact
// directory {mac}-directory.xml (polydir.go): served to a known phone with the checks of
// its config, the user's speed dials first, then the tenant's phonebook without the
// numbers a speed dial has.
//
// Device certificates (deviceauth.go): under the tenant's device_auth a phone's own
// file (a per-MAC file of a known phone, fresh or from the cache) is checked at every
// fetch against the client certificate the HTTPS listener asked for. It must verify
// (x509, RFC 5280 section 6) against the tenant's uploaded vendor CAs as roots, with the
// rest of the presented chain as intermediates, for client authentication (no extended
// key usage, any, or clientAuth), at the provisioner's clock; and its subject CN or
// alternative names (DNS, URI, e-mail) must name the file's MAC as 12 hex digits in any
// common notation (a longer hex run, a serial number, names none). require refuses
// anything else with 403 (TFTP: access violation, code 2); prefer serves a fetch without
// a certificate (plain HTTP, TFTP, none sent) and refuses a wrong one. Every such fetch is
// logged on its own with device (verified, missing, refused) and a reason. Common files,
// firmware and phonebooks are not gated. A chain check verifies signatures; its outcome
// is kept per tenant and chain for a minute (at most 4096, all dropped when a tenant's
// CAs change), so the later requests of a kept-alive connection skip it. The gates
// of a phone's own file run in this order: provisioning_https_only, the device
// certificate, the Digest credentials; so a fetch refused by an earlier gate never uses up
// the phone's one fetch without credentials.
//
// A panic while parsing a TFTP request or during its transfer ends that transfer only
// and is answered with a TFTP error (code 0, "internal error"); over HTTP, cmd/dialtone's
// handler answers 500 (internal/crash). The fetch-log writer is started again after one.
//
// Stats reads what the provisioner counts for metrics: TFTP transfers by how they ended,
// and the render cache's hits, misses, bytes and entries.
package provision
