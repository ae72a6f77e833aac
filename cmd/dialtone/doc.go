// Command dialtone is the one binary: `serve` (the default) runs every service over one
// store; `version`, `backup`, `verify-backup`, `restore`, `import-users`,
// `reset-password`, `dhcp-options` and `install` are the operator's tools. `dialtone
// --help` (or -h, help) lists them one line each; `--version` prints main.version, set by
// the Makefile's -ldflags.
//
// The newcomer's path: serve --admin-password on a store that has users is ignored with a
// WARN saying how to reset (serve.go). reset-password (resetpassword.go) gives a login a
// new generated password, printed once and audited (source cli), offline over the store or
// through the control socket while serve holds it. dhcp-options (dhcp.go) prints a
// tenant's DHCP option 66, 160 and 150 values (43 is left out with a note: its
// sub-options differ per make) and snippets for ISC dhcpd, Kea, dnsmasq, MikroTik and
// Windows DHCP, from a running serve's real ports or offline from serve's flags. install
// (install.go) copies the binary, writes the embedded systemd unit (package dist) with the
// chosen paths and creates the data directory and the dialtone user; --dry-run prints the
// steps, --root stages them under a directory.
//
// This package owns flags, environment and the config file, binding every listener before
// serving (so a port that cannot be bound stops the start and names its flag), wiring the
// protocol packages to each other through the small interfaces they declare, /healthz,
// /readyz and /metrics, the control socket in the data directory (online backup and import while serve
// runs) and graceful shutdown. It owns no protocol and no domain logic.
//
// Backups (backup.go, backupformat.go, backupschedule.go): a backup file is a header, a
// payload of records (master key, BadgerDB's backup stream, the files under firmware/ and
// templates/, an end record) and a trailer with the length and SHA-256 of all before it.
// With a passphrase the payload is sealed age-style (scrypt, then ChaCha20-Poly1305 over
// 64 KiB chunks with a counter nonce and a last-chunk flag); without one, `backup` wants an
// explicit --plaintext, since the file then holds the master key in clear. A running serve
// sends the payload over the control socket; the client checks its records as they pass,
// writes the file with atomicfile.WriteChecked and verifies it whole before it takes its
// name. restore verifies the whole file before writing anything. serve --backup-dir takes
// the same backups on a schedule and keeps the newest --backup-keep.
//
// HTTP and HTTPS (http.go, https.go): one fasthttp server and handler serve --http and,
// when set, --https (default :8443, :443 as root), TLS on top of the TCP
// connections with the appliance's certificate (internal/tlscert; a client certificate
// is asked for, never required, and reaches handlers through ctx.TLSConnectionState).
// With HTTPS on, everything but /p/…, /ca.pem, /healthz and /readyz answers a plain-HTTP
// client that is not on the box (loopback, or forwarded for by a --trusted-proxy) with
// 308 to the same path on HTTPS, before the API sees a token or cookie; HTTPS answers
// outside /p/ carry HSTS (RFC 6797). The mounts, in order: provisioning (/p/…), the admin
// API (/api/v1/…), the web console (/, its files, /set-password; package console).
// /ca.pem serves the CA to trust. publicURL is the
// one place that builds the base URL of mails (https when on) and phone configs (https
// for tenants with provisioning_https_only).
//
// Metrics and health (health.go, wire_metrics.go): every series is registered where its
// service is wired, reading the counts and state the protocol packages keep (they import
// no metrics library). /metrics is served on --metrics-addr and, with --metrics-token, on
// the HTTP listeners to that bearer token only. /healthz is alive; /readyz writes and
// deletes a store key (one probe at a time, 2 s bound), checks every service is serving
// and the LDAP directory is loaded, and names what failed in a 503.
//
// A panic in an HTTP handler answers that request 500 in the API's error shape
// ({"error":{"code":"internal",…}}) and closes its connection; one in a control-socket
// command ends that command; the flex auto-logout loop is started again after one. Every
// recovered panic is logged once with its stack and counted in
// dialtone_panics_total{service} (internal/crash).
package main
