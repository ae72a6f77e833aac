package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/icholy/digest"
	"github.com/pin/tftp/v3"
	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/internal/testkit"
)

// foreignPeers wraps the HTTP and HTTPS listeners: while on is set, connections accepted
// report the peer 192.0.2.7 (a LAN client) instead of 127.0.0.1. The connection, the
// server and the handler are the real ones; only the address the server is told changes,
// which is what the loopback exemption is a function of.
type foreignPeers struct{ on atomic.Bool }

func (f *foreignPeers) wrap(ln net.Listener) net.Listener { return foreignListener{ln, f} }

type foreignListener struct {
	net.Listener
	f *foreignPeers
}

func (l foreignListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || !l.f.on.Load() {
		return c, err
	}
	return foreignConn{c}, nil
}

type foreignConn struct{ net.Conn }

func (foreignConn) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.7:40000"))
}

type httpsEnv struct {
	*e2e
	foreign *foreignPeers
	caPEM   []byte
	secure  *http.Client // trusts the CA fetched from /ca.pem, nothing else
	plain   *http.Client // never follows redirects
}

// startHTTPS runs Main with --https on a free loopback port. The CA is fetched from
// /ca.pem over plain HTTP, as an admin would.
func startHTTPS(t *testing.T, mutate func(*Config)) *httpsEnv {
	t.Helper()
	f := &foreignPeers{}
	e := startMainOn(t, t.TempDir(), func(c *Config) {
		c.HTTPS = "127.0.0.1:0"
		c.hooks = &testHooks{httpListener: f.wrap}
		if mutate != nil {
			mutate(c)
		}
	})
	h := &httpsEnv{e2e: e, foreign: f}
	h.plain = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code, _, body := h.do(h.plain, "GET", e.url("/ca.pem"), "", nil)
	if code != 200 {
		t.Fatalf("GET /ca.pem: %d %s", code, body)
	}
	h.caPEM = body
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(body) {
		t.Fatalf("/ca.pem is not PEM: %q", body)
	}
	h.secure = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: pool}}}
	return h
}

func (h *httpsEnv) secureURL(path string) string { return "https://" + h.m.Addrs["https"] + path }

// do makes one request and returns status, headers and body.
func (h *httpsEnv) do(c *http.Client, method, url, token string, body any) (int, http.Header, []byte) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("User-Agent", yealinkUA)
	res, err := c.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// userWithPhone makes a user with a Yealink phone and returns the tenant's token.
func (h *httpsEnv) userWithPhone() string {
	var user struct{ ID string }
	h.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "de Jong",
		"extensions": []string{"201"}}, 201, &user)
	h.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0aabbcc", "model": "T46U", "user_id": user.ID}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
	}
	h.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	return tenant.ProvisioningToken
}

// The HTTPS listener serves the API and a phone's config with a certificate that
// verifies against /ca.pem alone; /ca.pem is the CA; GET /api/v1/tls shows it with
// its fingerprint; HSTS is on the API's answers and not on provisioning's.
func TestHTTPSServesWithPrivateCA(t *testing.T) {
	t.Parallel()
	h := startHTTPS(t, nil)
	if !bytes.Equal(h.caPEM, h.m.tls.CAPEM()) {
		t.Fatal("/ca.pem is not the CA")
	}
	token := h.userWithPhone()

	code, hdr, body := h.do(h.secure, "POST", h.secureURL("/api/v1/auth/login"), "", map[string]string{"email": "admin@localhost", "password": testAdminPassword})
	if code != 200 || hdr.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Fatalf("login over HTTPS: %d, HSTS %q: %s", code, hdr.Get("Strict-Transport-Security"), body)
	}
	var login struct{ Token string }
	json.Unmarshal(body, &login)
	code, _, body = h.do(h.secure, "GET", h.secureURL("/api/v1/tls"), login.Token, nil)
	var info struct {
		Source   string    `json:"source"`
		CASHA256 string    `json:"ca_sha256"`
		CAPEM    string    `json:"ca_pem"`
		NotAfter time.Time `json:"not_after"`
		CAURL    string    `json:"ca_url"`
	}
	json.Unmarshal(body, &info)
	if code != 200 || info.Source != "private-ca" || info.CASHA256 != h.m.tls.Fingerprint() || info.CAPEM != string(h.caPEM) ||
		info.NotAfter.Before(time.Now().AddDate(5, 0, 0)) || info.CAURL != "http://"+h.m.Addrs["http"]+"/ca.pem" {
		t.Fatalf("GET /api/v1/tls: %d %s", code, body)
	}

	code, hdr, body = h.do(h.secure, "GET", h.secureURL("/p/"+token+"/805ec0aabbcc.cfg"), "", nil)
	keys := yealinkKeys(string(body))
	if code != 200 || keys["account.1.user_name"] != "201" || hdr.Get("Strict-Transport-Security") != "" {
		t.Fatalf("config over HTTPS: %d, HSTS %q: %s", code, hdr.Get("Strict-Transport-Security"), body)
	}
	// The config tells the phone to trust the CA, fetched over plain HTTP.
	if keys["static.trusted_certificates.url"] != "http://"+h.m.Addrs["http"]+"/ca.pem" {
		t.Errorf("trusted certificate URL: %q", keys["static.trusted_certificates.url"])
	}
	// The set-password page over HTTPS carries HSTS too.
	if code, hdr, _ := h.do(h.secure, "GET", h.secureURL("/set-password?token=x"), "", nil); code != 200 || hdr.Get("Strict-Transport-Security") == "" {
		t.Errorf("set-password over HTTPS: %d, HSTS %q", code, hdr.Get("Strict-Transport-Security"))
	}
}

// With HTTPS on, a client on the LAN asking the API, the console or the set-password
// page over plain HTTP gets 308 to HTTPS, before its token is looked at; provisioning
// and /ca.pem still answer; a client on the box itself is served.
func TestPlainHTTPRedirectsToHTTPS(t *testing.T) {
	t.Parallel()
	h := startHTTPS(t, nil)
	token := h.userWithPhone()
	httpsPort := portOf(h.m.Addrs["https"])

	h.foreign.on.Store(true)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/me"},
		{"POST", "/api/v1/auth/login"},
		{"GET", "/set-password?token=abc"},
		{"GET", "/"},
	} {
		code, hdr, body := h.do(h.plain, c.method, h.url(c.path), h.token, nil)
		want := "https://127.0.0.1:" + httpsPort + c.path
		if code != 308 || hdr.Get("Location") != want {
			t.Errorf("%s %s over plain HTTP from the LAN: %d Location %q, want 308 %s: %s", c.method, c.path, code, hdr.Get("Location"), want, body)
		}
	}
	// A valid token sent in clear from the LAN is not accepted: the answer is the
	// redirect, never the caller's data.
	if code, _, body := h.do(h.plain, "GET", h.url("/api/v1/me"), h.token, nil); code != 308 || bytes.Contains(body, []byte("admin@localhost")) {
		t.Errorf("token over plain HTTP: %d %s", code, body)
	}
	// Provisioning and the CA answer on plain HTTP.
	if code, _, body := h.do(h.plain, "GET", h.url("/p/"+token+"/805ec0aabbcc.cfg"), "", nil); code != 200 {
		t.Errorf("config over plain HTTP: %d %s", code, body)
	}
	if code, _, _ := h.do(h.plain, "GET", h.url("/ca.pem"), "", nil); code != 200 {
		t.Errorf("/ca.pem over plain HTTP: %d", code)
	}
	// From the box itself the plain API is served (scripts on the appliance).
	h.foreign.on.Store(false)
	if code, hdr, body := h.do(h.plain, "GET", h.url("/api/v1/me"), h.token, nil); code != 200 || hdr.Get("Strict-Transport-Security") != "" {
		t.Errorf("plain HTTP from loopback: %d %s", code, body)
	}
}

// provisioning_https_only: the phone's own file is refused over plain HTTP (403 naming
// the https:// URL) and TFTP (access violation), served over HTTPS with https:// in it;
// the common file stays on plain HTTP. Without --https the setting is refused.
func TestProvisioningHTTPSOnly(t *testing.T) {
	t.Parallel()
	h := startHTTPS(t, nil)
	token := h.userWithPhone()
	h.call("PATCH", "/api/v1/tenants/default", map[string]any{"provisioning_https_only": true}, 200, nil)
	var tenant struct {
		HTTPSOnly bool   `json:"provisioning_https_only"`
		URL       string `json:"provisioning_url"`
	}
	h.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	if !tenant.HTTPSOnly || tenant.URL != h.secureURL("/p/"+token+"/") {
		t.Errorf("tenant: %+v", tenant)
	}

	file := "/p/" + token + "/805ec0aabbcc.cfg"
	code, _, body := h.do(h.plain, "GET", h.url(file), "", nil)
	if code != 403 || !strings.Contains(string(body), h.secureURL(file)) {
		t.Errorf("phone file over plain HTTP: %d %s", code, body)
	}
	cli, err := tftp.NewClient(h.m.Addrs["tftp"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Receive(token+"/805ec0aabbcc.cfg", "octet"); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Errorf("phone file over TFTP: %v", err)
	}
	if code, _, body := h.do(h.plain, "GET", h.url("/p/"+token+"/y000000000108.cfg"), "", nil); code != 200 || !bytes.Contains(body, []byte("auto_provision.server.url = https://")) {
		t.Errorf("common file over plain HTTP: %d %s", code, body)
	}
	code, _, body = h.do(h.secure, "GET", h.secureURL(file), "", nil)
	keys := yealinkKeys(string(body))
	if code != 200 || keys["auto_provision.server.url"] != h.secureURL("/p/"+token+"/") || keys["static.security.trust_certificates"] != "1" {
		t.Errorf("phone file over HTTPS: %d %s", code, body)
	}

	// Without --https there is nowhere to fetch from: refused.
	off := startMain(t)
	off.call("PATCH", "/api/v1/tenants/default", map[string]any{"provisioning_https_only": true}, 422, nil)
}

// provisioning_auth digest over HTTPS: the phone's first fetch over HTTPS hands out its
// credentials; then its file needs them over HTTPS as over HTTP (a challenge, then served
// with them), and with provisioning_https_only plain HTTP stays refused with the https://
// answer.
func TestDigestCredentialsOverHTTPS(t *testing.T) {
	t.Parallel()
	h := startHTTPS(t, nil)
	token := h.userWithPhone()
	h.call("PATCH", "/api/v1/tenants/default", map[string]any{"provisioning_auth": "digest", "provisioning_https_only": true}, 200, nil)
	file := "/p/" + token + "/805ec0aabbcc.cfg"
	code, _, body := h.do(h.secure, "GET", h.secureURL(file), "", nil)
	keys := yealinkKeys(string(body))
	user, pw := keys["static.auto_provision.server.username"], keys["static.auto_provision.server.password"]
	if code != 200 || user != "805ec0aabbcc" || pw == "" {
		t.Fatalf("first fetch over HTTPS: %d %s", code, body)
	}
	code, hdr, _ := h.do(h.secure, "GET", h.secureURL(file), "", nil)
	if code != 401 || !strings.Contains(hdr.Get("WWW-Authenticate"), "Digest") {
		t.Fatalf("second fetch over HTTPS without credentials: %d %v", code, hdr)
	}
	phone := &http.Client{Timeout: 10 * time.Second, Transport: &digest.Transport{Username: user, Password: pw, Transport: h.secure.Transport}}
	if code, _, body := h.do(phone, "GET", h.secureURL(file), "", nil); code != 200 || !bytes.Contains(body, []byte("account.1.password")) {
		t.Fatalf("over HTTPS with the phone's credentials: %d %s", code, body)
	}
	if code, _, body := h.do(h.plain, "GET", h.url(file), "", nil); code != 403 || !strings.Contains(string(body), h.secureURL(file)) {
		t.Errorf("phone file over plain HTTP: %d %s", code, body)
	}
	// the XML phonebook with the phonebook account (HTTP Basic) over HTTPS
	var tenant struct {
		Password string `json:"ldap_bind_password"`
	}
	h.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	req, _ := http.NewRequest("GET", h.secureURL("/p/"+token+"/directory/yealink.xml"), nil)
	req.SetBasicAuth("phonebook", tenant.Password)
	res, err := h.secure.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(b, []byte("de Jong")) {
		t.Errorf("phonebook over HTTPS with the phonebook account: %d %s", res.StatusCode, b)
	}
}

// The welcome mail's set-password link is https:// when HTTPS is on, and opens over it.
func TestMailLinksUseHTTPS(t *testing.T) {
	t.Parallel()
	addr, mails := startSMTP(t)
	h := startHTTPS(t, func(c *Config) { c.SMTP = "smtp://" + addr; c.MailFrom = "dialtone@pbx.test" })
	h.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Kim", "last_name": "Bos",
		"email": "kim@example.com", "extensions": []string{"202"}}, 201, nil)
	select {
	case m := <-mails:
		body := strings.ReplaceAll(strings.ReplaceAll(string(m.data), "=\r\n", ""), "=3D", "=")
		link := "https://127.0.0.1:" + portOf(h.m.Addrs["https"]) + "/set-password?token="
		i := strings.Index(body, link)
		if i < 0 {
			t.Fatalf("no %s link in:\n%s", link, body)
		}
		url := body[i : i+len(link)+64]
		if code, _, _ := h.do(h.secure, "GET", url, "", nil); code != 200 {
			t.Errorf("GET %s: %d", url, code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no welcome mail")
	}
}

// The HTTPS listener's layering (TLS over the TCP connections, asking for a
// client certificate) hands a phone's device certificate to the handler through
// ctx.TLSConnectionState, and a client without one still connects.
func TestHTTPSPeerCertificateReachesHandler(t *testing.T) {
	t.Parallel()
	m, err := NewMain(tlsTestConfig(t.TempDir()), slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 2)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		st := ctx.TLSConnectionState()
		switch {
		case st == nil:
			seen <- "not TLS"
		case len(st.PeerCertificates) == 0:
			seen <- "no certificate"
		default:
			seen <- st.PeerCertificates[0].Subject.CommonName
		}
	}}
	go srv.Serve(m.httpsListener(ln))
	defer srv.Shutdown()

	// A device certificate, self-signed here: the listener hands it over unverified.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "805ec0aabbcc"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(m.tls.CAPEM())
	for _, c := range []struct {
		certs []tls.Certificate
		want  string
	}{
		{[]tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, "805ec0aabbcc"},
		{nil, "no certificate"},
	} {
		cl := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: c.certs}}}
		res, err := cl.Get("https://" + ln.Addr().String() + "/p/x/805ec0aabbcc.cfg")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := <-seen; got != c.want {
			t.Errorf("handler saw %q, want %q", got, c.want)
		}
	}
}

// TestStopEndsEveryServeLoop: after a stop, no goroutine of the HTTP, HTTPS or metrics
// listeners is left behind (each Serve loop's answer has somewhere to go).
func TestStopEndsEveryServeLoop(t *testing.T) {
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.HTTPS = "127.0.0.1:0" })
	if code, _ := httpGet(t, e.url("/healthz")); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	e.stop()
	select {
	case err := <-e.done:
		e.done <- err // for the cleanup, which waits on it too
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the stop")
	}
	left := func() string {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(stacks, "\n\n") {
			for _, fn := range []string{"dialtone.(*Main).httpService", "dialtone.(*Main).metricsService", "dialtone.(*Main).serveUntil"} {
				if strings.Contains(g, fn) {
					return g
				}
			}
		}
		return ""
	}
	testkit.Eventually(t, 5*time.Second, "every serve loop's goroutine to end after the stop", func() bool {
		return left() == ""
	})
}
