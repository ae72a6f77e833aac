package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// httpFrom opens a raw HTTP connection from src (any 127/8 address is local).
func httpFrom(t *testing.T, e *e2e, src string) net.Conn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", e.m.Addrs["http"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// healthzOver asks /healthz on a kept-alive connection; false when the server closed it.
func healthzOver(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return false
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	return res.StatusCode == 200
}

// --http-conns-per-source: one source holds at most that many connections; the next is
// closed before a byte is read and counted in dialtone_conns_refused_total; another
// source is served, and so is the first again once it closes one.
func TestHTTPConnsPerSource(t *testing.T) {
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.HTTPConnsPerSource = "2" })
	a, b := httpFrom(t, e, "127.5.0.1"), httpFrom(t, e, "127.5.0.1")
	if !healthzOver(a) || !healthzOver(b) {
		t.Fatal("connections under the cap not served")
	}
	if healthzOver(httpFrom(t, e, "127.5.0.1")) {
		t.Fatal("a third connection from one source was served")
	}
	if !healthzOver(httpFrom(t, e, "127.5.0.2")) {
		t.Fatal("another source not served")
	}
	res, err := http.Get(e.metricsURL())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `dialtone_conns_refused_total{svc="http"} 1`) {
		t.Errorf("refused connection not counted:\n%s", grepLines(string(body), "refused"))
	}
	if !strings.Contains(string(body), `dialtone_password_hashes{what="computed"}`) {
		t.Errorf("no password hash figures:\n%s", grepLines(string(body), "password"))
	}
	a.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !healthzOver(httpFrom(t, e, "127.5.0.1")) {
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not free its slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A --*-conns-per-source value that is not a whole number is refused when serve starts.
func TestConnsPerSourceFlag(t *testing.T) {
	for _, bad := range []string{"-1", "many"} {
		_, err := parseServeConfig([]string{"--ldap-conns-per-source", bad}, func(string) (string, bool) { return "", false }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--ldap-conns-per-source") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	c, err := parseServeConfig(nil, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil || c.HTTPConnsPerSource != "64" || c.LDAPConnsPerSource != "32" || c.SIPConnsPerSource != "32" {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
