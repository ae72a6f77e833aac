package main

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/internal/clientip"
	"github.com/dialtone/dialtone/internal/tlscert"
)

// hstsValue is sent on HTTPS answers of the API, the console and the set-password page
// (RFC 6797 section 6.1): a year, the host only (the appliance's name may be shared with
// other services on other ports of a parent domain).
const hstsValue = "max-age=31536000"

// publicURL is the one place that decides the base URL people and phones are given:
// https://{public-host}:{https port} when secure is asked for and HTTPS is on, otherwise
// http://{public-host}:{http port}. Mail links and the console use secure; phone configs
// use secure when the tenant has provisioning_https_only on.
func (m *Main) publicURL(secure bool) string {
	if secure && m.httpsLn != nil {
		return "https://" + net.JoinHostPort(m.cfg.PublicHost, portOf(m.Addrs["https"]))
	}
	return "http://" + net.JoinHostPort(m.cfg.PublicHost, portOf(m.Addrs["http"]))
}

// secureBaseURL is publicURL(true) when HTTPS is on, "" when it is off.
func (m *Main) secureBaseURL() string {
	if m.httpsLn == nil {
		return ""
	}
	return m.publicURL(true)
}

// httpsListener is the TLS listener over the (capped) TCP listener: fasthttp's handler
// sees a *tls.Conn, so
// ctx.IsTLS and ctx.TLSConnectionState (the phone's device certificate, asked for but
// never required) work.
func (m *Main) httpsListener(raw net.Listener) net.Listener {
	return tls.NewListener(raw, m.tls.ServerConfig(tlscert.RequestClientCert(), tlscert.NextProtos("http/1.1")))
}

// servesPlainly tells the paths that answer on plain HTTP even with HTTPS on: phones'
// provisioning (/p/…), the CA phones and browsers fetch before they can check anything
// (/ca.pem), and the probes (/healthz, /readyz). Everything else — the admin API, the
// console, the set-password page, /metrics with its token — is redirected.
func servesPlainly(path []byte) bool {
	return bytes.HasPrefix(path, []byte("/p/")) || string(path) == "/ca.pem" ||
		string(path) == "/healthz" || string(path) == "/readyz"
}

// secureOrRedirect runs before any handler. On HTTPS it adds HSTS to every answer but
// provisioning's (/p/…). On plain HTTP, with HTTPS on, it answers a request from anywhere
// but the box itself with 308 to the same path on HTTPS (RFC 9110 section 15.4.9: the
// method and body are kept), before the API sees a token or cookie, and reports true.
func (m *Main) secureOrRedirect(ctx *fasthttp.RequestCtx) (answered bool) {
	if m.httpsLn == nil {
		return false
	}
	path := ctx.URI().PathOriginal()
	if ctx.IsTLS() {
		if !bytes.HasPrefix(path, []byte("/p/")) {
			ctx.Response.Header.Set("Strict-Transport-Security", hstsValue)
		}
		return false
	}
	if servesPlainly(path) || m.fromThisBox(ctx) {
		return false
	}
	target := "https://" + net.JoinHostPort(m.redirectHost(ctx), portOf(m.Addrs["https"])) + string(ctx.RequestURI())
	ctx.Response.Header.Set("Location", target)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusPermanentRedirect)
	ctx.SetBodyString(`{"error":{"code":"https_required","message":"use HTTPS: ` + jsonSafe(target) + `"}}`)
	ctx.SetConnectionClose()
	return true
}

// fromThisBox: the client is on the appliance itself (scripts, a reverse proxy's own
// checks). The address is the TCP peer's, or the one a --trusted-proxy forwarded for,
// so a proxy on the box does not exempt the clients behind it.
func (m *Main) fromThisBox(ctx *fasthttp.RequestCtx) bool {
	return clientip.Of(ctx, m.proxies).IsLoopback()
}

// redirectHost is the host the client asked for (its Host header, when it is a plain
// host name or address) or else --public-host. The client only sends itself where it
// already was.
func (m *Main) redirectHost(ctx *fasthttp.RequestCtx) string {
	host := string(ctx.Host())
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	if validHostName(host) {
		return host
	}
	return m.cfg.PublicHost
}

func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// jsonSafe drops what would need escaping in a JSON string (the URL's path is the
// client's own, percent-encoded already by any sane client).
func jsonSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

// privateCA is the CA written into phone configs: the private CA's certificate, nil when
// the certificate is the admin's or from ACME (phones are then set up by the admin).
func (m *Main) privateCA() []byte {
	if m.tls.Source() != tlscert.SourcePrivateCA {
		return nil
	}
	return m.tls.CAPEM()
}

// serveCA answers /ca.pem: the certificate to trust (the private CA, or the CA of the
// admin's chain), no login, on both listeners; 404 with ACME, whose roots are public.
func (m *Main) serveCA(ctx *fasthttp.RequestCtx) {
	pem := m.tls.CAPEM()
	if len(pem) == 0 {
		ctx.SetContentType("application/json")
		ctx.SetStatusCode(fasthttp.StatusNotFound)
		ctx.SetBodyString(`{"error":{"code":"not_found","message":"no private CA: the certificate is from a public CA"}}`)
		return
	}
	ctx.SetContentType("application/x-pem-file")
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBody(pem)
}
