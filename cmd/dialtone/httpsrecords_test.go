package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// captureConn keeps every byte the server sent, to read the TLS record layer afterwards.
type captureConn struct {
	net.Conn
	got bytes.Buffer
}

func (c *captureConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.got.Write(p[:n])
	return n, err
}

// appDataRecords counts the application data records (content type 23, RFC 5246
// section 6.2.1) in a captured TLS 1.2 stream.
func appDataRecords(t *testing.T, b []byte) int {
	t.Helper()
	n := 0
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("truncated record header: % x", b)
		}
		size := int(b[3])<<8 | int(b[4])
		if len(b) < 5+size {
			t.Fatalf("truncated record: type %d, %d of %d bytes", b[0], len(b)-5, size)
		}
		if b[0] == 23 {
			n++
		}
		b = b[5+size:]
	}
	return n
}

// A phone's config over HTTPS leaves in one TLS record (and one write): a fresh
// connection is not sent its first kilobytes in small records (internal/tlscert).
func TestHTTPSConfigInOneRecord(t *testing.T) {
	h := startHTTPS(t, nil)
	token := h.userWithPhone()
	// An admin's raw settings make the config about 6 KiB: more than Go's first small
	// records, less than the 8 KiB the HTTP server writes at once (http.go).
	pad := map[string]string{}
	for i := range 80 {
		pad[fmt.Sprintf("features.record_pad_%03d", i)] = strings.Repeat("x", 20)
	}
	h.call("PATCH", "/api/v1/tenants/default", map[string]any{"settings": map[string]any{"yealink": pad}}, 200, nil)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(h.caPEM)
	raw, err := net.Dial("tcp", h.m.Addrs["https"])
	if err != nil {
		t.Fatal(err)
	}
	cc := &captureConn{Conn: raw}
	// TLS 1.2: its handshake and alerts have record types of their own, so every
	// application data record is the answer.
	conn := tls.Client(cc, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS12})
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	handshake := cc.got.Len()
	fmt.Fprintf(conn, "GET /p/%s/805ec0aabbcc.cfg HTTP/1.1\r\nHost: pbx\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n", token, yealinkUA)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	io.Copy(io.Discard, conn) // up to the server's close_notify
	if res.StatusCode != 200 || len(body) < 5000 {
		t.Fatalf("config: %d, %d bytes", res.StatusCode, len(body))
	}
	if n := appDataRecords(t, cc.got.Bytes()[handshake:]); n != 1 {
		t.Errorf("a %d-byte config came in %d records, want 1", len(body), n)
	}
}
