package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// --sips serves SIP over TLS with the appliance's certificate: a client that trusts
// only the private CA completes the handshake and is answered over it.
func TestSIPSListener(t *testing.T) {
	t.Parallel()
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.SIPS = "127.0.0.1:0" })
	addr := e.m.Addrs["sips"]
	if addr == "" {
		t.Fatal("no sips listener")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(e.m.tls.CAPEM()) {
		t.Fatal("CA PEM")
	}
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS " + c.LocalAddr().String() + ";branch=z9hG4bK-sips1\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: sips-probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "SIP/2.0 200") {
		t.Fatalf("OPTIONS over TLS: %q %v", line, err)
	}
}
