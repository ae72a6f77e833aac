package sip

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/internal/tlscert"
	"github.com/emiago/sipgo/sip"
)

// serveTLS starts SIP over TLS on the env's registrar with a private CA made under a
// temporary directory; it returns the listener's address and the CA to verify it with.
func (e *env) serveTLS(t *testing.T) (string, *x509.CertPool) {
	t.Helper()
	m, err := tlscert.New(context.Background(), tlscert.Options{Dir: t.TempDir(), PublicHost: "pbx.example"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(m.CAPEM()) {
		t.Fatal("CA PEM")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.srv.ServeTLS(ctx, l, m.ServerConfig()); err != nil {
			t.Errorf("ServeTLS: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l.Addr().String(), pool
}

// tlsPhone is a phone on a TLS connection, verifying the registrar with the CA only.
type tlsPhone struct {
	*phone
	conn *tls.Conn
	r    *bufio.Reader
}

func dialTLSPhone(t *testing.T, e *env, addr string, pool *x509.CertPool) *tlsPhone {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &phone{t: t, user: e.user, pass: e.pass, domain: e.domain, callID: randHex(8) + "@phone",
		ua: "Yealink SIP-T46U 108.86.0.20"}
	return &tlsPhone{phone: p, conn: c, r: bufio.NewReader(c)}
}

// readMsg reads one message framed by Content-Length (RFC 3261 §18.3); nil
// when the connection yields none within d.
func (p *tlsPhone) readMsg(d time.Duration) sip.Message {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(d))
	m, err := readFramed(p.t, p.r)
	if err != nil {
		return nil
	}
	return m
}

// readFramed reads one message off a stream, framed by Content-Length
// (RFC 3261 §18.3); a read error is returned, an unparsable message fails t.
func readFramed(t *testing.T, r *bufio.Reader) (sip.Message, error) {
	t.Helper()
	var head strings.Builder
	clen := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(line) == "" {
			if head.Len() == 0 {
				continue
			}
			head.WriteString(line)
			break
		}
		head.WriteString(line)
		if n, ok := contentLength([]byte(line)); ok {
			clen = n
		}
	}
	body := make([]byte, clen)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	m, err := sip.ParseMessage(append([]byte(head.String()), body...))
	if err != nil {
		t.Fatalf("unparsable message: %v\n%s", err, head.String())
	}
	return m, nil
}

func (p *tlsPhone) send(raw string) *sip.Response {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(raw)); err != nil {
		p.t.Fatal(err)
	}
	for {
		m := p.readMsg(3 * time.Second)
		if m == nil {
			return nil
		}
		if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 {
			return res
		}
	}
}

func (p *tlsPhone) addr() string { return p.conn.LocalAddr().String() }

// A phone registers over TLS, verifying the registrar with the CA only; its binding says
// TLS; a check-sync NOTIFY reaches it over its own connection; once that connection is
// closed, the NOTIFY is not sent at all — in particular not in clear over UDP to the
// address the connection came from — and the loss is counted.
func TestTLSRegisterAndNotifyOverTheFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addr, pool := e.serveTLS(t)
	addPhone(t, e, "001565aabbcc", false)
	p := dialTLSPhone(t, e, addr, pool)
	if res := p.registerOverTLS(); res == nil || res.StatusCode != 200 {
		t.Fatalf("REGISTER over TLS: %v", res)
	}
	regs := e.srv.Registrations("acme")
	if len(regs) != 1 || regs[0].Transport != "TLS" || regs[0].Source != p.addr() {
		t.Fatalf("bindings: %+v", regs)
	}
	// Answer whatever the phone's creation queued, then ask for a resync.
	p.answerNotifies(500 * time.Millisecond)
	errc := make(chan error, 1)
	go func() { errc <- e.srv.Resync(context.Background(), "001565aabbcc") }()
	m := p.readMsg(3 * time.Second)
	req, ok := m.(*sip.Request)
	if !ok || req.Method != sip.NOTIFY {
		t.Fatalf("no NOTIFY over the TLS connection: %v", m)
	}
	if v := req.Via(); v == nil || v.Transport != "TLS" {
		t.Fatalf("NOTIFY Via: %v", req.Via())
	}
	if ev := req.GetHeader("Event"); ev == nil || !strings.HasPrefix(ev.Value(), "check-sync") {
		t.Fatalf("Event: %v", ev)
	}
	p.respondTLS(req, 200, "OK")
	if err := <-errc; err != nil {
		t.Fatalf("Resync: %v", err)
	}

	// The connection closes. A UDP socket on the address it came from must hear nothing.
	src, _ := netip.ParseAddrPort(p.addr())
	clear, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(src))
	if err != nil {
		t.Skipf("UDP port of the TLS client taken: %v", err) // another process has it
	}
	defer clear.Close()
	p.conn.Close()
	testkit.Eventually(t, 3*time.Second, "the registrar to drop the closed connection", func() bool {
		return !e.srv.hasFlow("TLS", src)
	})
	before := e.srv.FlowsLost()
	err = e.srv.Resync(context.Background(), "001565aabbcc")
	if !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Resync without the connection: %v", err)
	}
	if e.srv.FlowsLost() != before+1 {
		t.Fatalf("flows lost %d, want %d", e.srv.FlowsLost(), before+1)
	}
	clear.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	buf := make([]byte, 4096)
	if n, _, err := clear.ReadFromUDP(buf); err == nil {
		t.Fatalf("NOTIFY sent in clear over UDP:\n%s", buf[:n])
	}
	if !strings.Contains(e.logs.String(), "connection is gone") {
		t.Fatal("no log line for the NOTIFY not sent")
	}
}

// A client that does not speak TLS to the TLS port gets no SIP answer, and a
// client that does not trust the CA cannot complete the handshake.
func TestTLSPortSpeaksOnlyTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addr, _ := e.serveTLS(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("OPTIONS sip:pbx.example SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK1\r\n" +
		"From: <sip:a@pbx.example>;tag=1\r\nTo: <sip:pbx.example>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, _ := io.ReadAll(c)
	if strings.Contains(string(b), "SIP/2.0") {
		t.Fatalf("answered in clear on the TLS port: %q", b)
	}
	if _, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: x509.NewCertPool()}); err == nil {
		t.Fatal("handshake verified without the CA")
	}
}

// registerOverTLS runs REGISTER, 401, REGISTER with credentials over the connection,
// with the connection's address in Via and Contact.
func (p *tlsPhone) registerOverTLS() *sip.Response {
	p.t.Helper()
	build := func(auth string) string {
		p.cseq++
		var b strings.Builder
		b.WriteString("REGISTER sip:" + p.domain + " SIP/2.0\r\n")
		b.WriteString("Via: SIP/2.0/TLS " + p.addr() + ";branch=z9hG4bK" + randHex(6) + ";rport\r\n")
		b.WriteString("Max-Forwards: 70\r\nFrom: <sip:" + p.user + "@" + p.domain + ">;tag=" + randHex(4) + "\r\n")
		b.WriteString("To: <sip:" + p.user + "@" + p.domain + ">\r\nCall-ID: " + p.callID + "\r\nCSeq: " + strconv.Itoa(p.cseq) + " REGISTER\r\n")
		b.WriteString("Contact: <sip:" + p.user + "@" + p.addr() + ";transport=tls>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-001565aabbcc>\"\r\n")
		if auth != "" {
			b.WriteString(auth + "\r\n")
		}
		b.WriteString("User-Agent: " + p.ua + "\r\nContent-Length: 0\r\n\r\n")
		return b.String()
	}
	res := p.send(build(""))
	if res == nil || res.StatusCode != 401 {
		return res
	}
	return p.send(build(p.authorization(res, "REGISTER", "sip:"+p.domain, "", 1)))
}

func (p *tlsPhone) respondTLS(req *sip.Request, code int, reason string) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	if _, err := p.conn.Write([]byte(res.String())); err != nil {
		p.t.Fatal(err)
	}
}

// answerNotifies answers 200 to the requests the registrar sends within d.
func (p *tlsPhone) answerNotifies(d time.Duration) {
	for {
		m := p.readMsg(d)
		if m == nil {
			return
		}
		if req, ok := m.(*sip.Request); ok {
			p.respondTLS(req, 200, "OK")
		}
	}
}

// hasFlow reports whether a connection of transport from src is open.
func (s *Server) hasFlow(transport string, src netip.AddrPort) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcp[flowKey{transport, src}] != nil
}
