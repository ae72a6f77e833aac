package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/pin/tftp/v3"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/ldapdir"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// Broken parts, wrapped around the real ones by testHooks: each panics on its trigger.

type brokenBooks struct {
	provision.Phonebooks
	broken *atomic.Bool
}

func (b brokenBooks) WriteXML(w io.Writer, tenant, vendor string, mobile bool) error {
	if b.broken.Load() {
		panic("test: phonebook broken")
	}
	return b.Phonebooks.WriteXML(w, tenant, vendor, mobile)
}

type brokenAuth struct{ ldapdir.Authenticator }

func (a brokenAuth) CheckPassword(ctx context.Context, tenant, userID, password string) (bool, error) {
	if password == "panic" {
		panic("test: password check broken")
	}
	return a.Authenticator.CheckPassword(ctx, tenant, userID, password)
}

type brokenDirectory struct{ sip.Directory }

func (d brokenDirectory) TenantByDomain(domain string) (store.Tenant, error) {
	if domain == "panic.invalid" {
		panic("test: tenant lookup broken")
	}
	return d.Directory.TenantByDomain(domain)
}

// A panic in a request of each protocol ends that request only: the assembled server
// answers it as it can (500 over HTTP, a TFTP error, nothing over SIP, a dropped LDAP
// connection), counts it, and HTTP, TFTP, SIP and LDAP all serve the next request.
func TestPanicEndsOnlyItsRequest(t *testing.T) {
	t.Parallel()
	var booksBroken atomic.Bool
	e := startMainOn(t, t.TempDir(), func(c *Config) {
		c.hooks = &testHooks{
			phonebooks:   func(b provision.Phonebooks) provision.Phonebooks { return brokenBooks{b, &booksBroken} },
			ldapAuth:     func(a ldapdir.Authenticator) ldapdir.Authenticator { return brokenAuth{a} },
			sipDirectory: func(d sip.Directory) sip.Directory { return brokenDirectory{d} },
		}
	})
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
		LDAPBaseDN        string `json:"ldap_base_dn"`
		LDAPBindDN        string `json:"ldap_bind_dn"`
		LDAPBindPassword  string `json:"ldap_bind_password"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	// the XML phonebook as a known phone fetches it (directory/{mac}/{make}.xml)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000031", "model": "T46U"}, 201, nil)
	booksFile := tenant.ProvisioningToken + "/directory/805ec0000031/yealink.xml"
	books := "/p/" + booksFile
	before := crash.Counts()
	booksBroken.Store(true)

	// HTTP: a 500 in the API's error shape.
	if code, body := httpGet(t, e.url(books)); code != 500 || !strings.Contains(body, `"code":"internal"`) {
		t.Fatalf("HTTP request that panics: %d %s", code, body)
	}
	// TFTP: an error packet, not silence.
	if _, err := tftpGet(t, e.m.Addrs["tftp"], booksFile); err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("TFTP transfer that panics: %v", err)
	}
	// SIP over UDP and TCP: the message that panics gets no answer; the TCP connection
	// stays and answers its next message.
	udp := dialSIP(t, "udp", e.m.Addrs["sip"])
	udp.send(t, sipRequest("REGISTER", "panic.invalid", "u1", "UDP"))
	tcp := dialSIP(t, "tcp", e.m.Addrs["sip"])
	tcp.send(t, sipRequest("REGISTER", "panic.invalid", "t1", "TCP"))
	waitFor(t, "two SIP panics counted", func() bool { return crash.Count("sip") >= uint64(before["sip"])+2 })
	tcp.send(t, sipRequest("OPTIONS", "127.0.0.1", "t2", "TCP"))
	if got := tcp.status(t); got != "SIP/2.0 200 OK" {
		t.Fatalf("OPTIONS on the TCP connection after a panic: %q", got)
	}
	// LDAP: the connection whose bind panics is dropped (over StartTLS: a person's
	// password is checked on a TLS connection only).
	lc, err := ldap.DialURL("ldap://" + e.m.Addrs["ldap"])
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.StartTLS(caClient(t, e.data)); err != nil {
		t.Fatal(err)
	}
	if err := lc.Bind("nobody@e2e.test", "panic"); err == nil {
		t.Fatal("LDAP bind that panics succeeded")
	}
	lc.Close()
	// The connection is closed as the panic unwinds, before the recover counts it.
	waitFor(t, "the LDAP panic counted", func() bool { return crash.Count("ldap") >= uint64(before["ldap"])+1 })
	after := crash.Counts()
	for _, svc := range []string{"http", "tftp", "sip", "ldap"} {
		want := 1
		if svc == "sip" {
			want = 2
		}
		if int(after[svc]-before[svc]) != want {
			t.Errorf("panics counted for %s: %v, want %d", svc, after[svc]-before[svc], want)
		}
	}

	// Every service, the same four included, serves the next request.
	booksBroken.Store(false)
	if code, body := httpGet(t, e.url(books)); code != 200 || !strings.Contains(body, "<") {
		t.Errorf("HTTP after the panics: %d %s", code, body)
	}
	if body, err := tftpGet(t, e.m.Addrs["tftp"], booksFile); err != nil || !strings.Contains(body, "<") {
		t.Errorf("TFTP after the panics: %v %q", err, body)
	}
	udp.send(t, sipRequest("OPTIONS", "127.0.0.1", "u2", "UDP"))
	if got := udp.status(t); got != "SIP/2.0 200 OK" {
		t.Errorf("SIP over UDP after the panics: %q", got)
	}
	lc, err = ldap.DialURL("ldap://" + e.m.Addrs["ldap"])
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if err := lc.Bind(tenant.LDAPBindDN, tenant.LDAPBindPassword); err != nil {
		t.Fatalf("LDAP bind after the panics: %v", err)
	}
	if _, err := lc.Search(ldap.NewSearchRequest(tenant.LDAPBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"cn"}, nil)); err != nil {
		t.Errorf("LDAP search after the panics: %v", err)
	}
	if _, body := httpGet(t, e.metricsURL()); !strings.Contains(body, `dialtone_panics_total{service="ldap"}`) {
		t.Errorf("no panics counter in /metrics:\n%s", body)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func tftpGet(t *testing.T, addr, file string) (string, error) {
	t.Helper()
	cli, err := tftp.NewClient(addr)
	if err != nil {
		t.Fatal(err)
	}
	cli.SetTimeout(2 * time.Second)
	wt, err := cli.Receive(file, "octet")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	_, err = wt.WriteTo(&b)
	return b.String(), err
}

// sipRequest is a minimal request to the server; its Via names an address that is not
// ours, as answers go to the source (RFC 3581) over UDP and back on the connection over TCP.
func sipRequest(method, domain, callID, transport string) string {
	return fmt.Sprintf("%[1]s sip:%[2]s SIP/2.0\r\n"+
		"Via: SIP/2.0/%[4]s 127.0.0.1:5099;branch=z9hG4bK-%[3]s;rport\r\n"+
		"From: <sip:201@%[2]s>;tag=%[3]s\r\nTo: <sip:201@%[2]s>\r\nCall-ID: %[3]s\r\n"+
		"CSeq: 1 %[1]s\r\nContact: <sip:201@127.0.0.1:5099>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		method, domain, callID, transport)
}

type sipClient struct {
	c net.Conn
	r *bufio.Reader
}

func dialSIP(t *testing.T, network, addr string) *sipClient {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &sipClient{c: c, r: bufio.NewReaderSize(c, 65536)}
}

func (s *sipClient) send(t *testing.T, msg string) {
	t.Helper()
	if _, err := s.c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// status reads the next answer's status line (a UDP datagram, or over TCP the next
// message on the stream: its header lines are skipped as the following read goes on).
func (s *sipClient) status(t *testing.T) string {
	t.Helper()
	s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, ok := s.c.(*net.UDPConn); ok {
		b := make([]byte, 65536)
		n, err := s.c.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(string(b[:n]), "\r\n")
		return line
	}
	line, err := s.r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(line, "\r\n")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, what, cond)
}
