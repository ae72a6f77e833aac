package sip

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// env is a registrar on real sockets over a real in-memory store.
type env struct {
	st      *store.Store
	srv     *Server
	udp     net.PacketConn
	tcp     net.Listener
	cancel  context.CancelFunc
	done    sync.WaitGroup
	user    string // SIP username of extension 201 in tenant acme
	pass    string
	domain  string
	logs    *syncBuffer
	flex    FlexDesk
	cfgHook func(*Config)
}

// syncBuffer collects the registrar's log lines while it runs.
type syncBuffer = testkit.Buffer

func newEnv(t testing.TB, opts ...func(*env)) *env {
	t.Helper()
	e := &env{domain: "acme.example", logs: &syncBuffer{}}
	for _, o := range opts {
		o(e)
	}
	var err error
	if e.st == nil {
		e.st, err = store.Open(store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.st.Close() })
		err = e.st.Update(func(tx *store.Tx) error {
			if _, err := tx.CreateTenant(store.NewTenant{Slug: "default"}); err != nil {
				return err
			}
			if _, err := tx.CreateTenant(store.NewTenant{Slug: "acme", SIPDomain: e.domain}); err != nil {
				return err
			}
			if _, err := tx.CreateTenant(store.NewTenant{Slug: "other", SIPDomain: "other.example"}); err != nil {
				return err
			}
			if _, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Ann", LastName: "Archer",
				Email: "ann@acme.example", Role: store.RoleUser, Extensions: []string{"201"}}); err != nil {
				return err
			}
			_, _, err := tx.CreateUser("other", store.NewUser{FirstName: "Otto", LastName: "Other",
				Email: "otto@other.example", Role: store.RoleUser, Extensions: []string{"301"}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	ext, err := e.st.Extension("acme", "201")
	if err != nil {
		t.Fatal(err)
	}
	e.user = ext.SIPUsername
	if e.pass, err = e.st.SIPPassword(ext); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: e.st, PublicHost: "pbx.example", Flex: e.flex,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if e.cfgHook != nil {
		e.cfgHook(&cfg)
	}
	e.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if e.udp, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if e.tcp, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.done.Add(2)
	go func() {
		defer e.done.Done()
		if err := e.srv.ServeUDP(ctx, e.udp); err != nil {
			t.Errorf("ServeUDP: %v", err)
		}
	}()
	go func() {
		defer e.done.Done()
		if err := e.srv.ServeTCP(ctx, e.tcp); err != nil {
			t.Errorf("ServeTCP: %v", err)
		}
	}()
	t.Cleanup(e.stop)
	return e
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	e.done.Wait()
	e.udp.Close()
	e.srv.Close()
	e.cancel = nil
}

// restarted stops the server and builds a new one over the same store, as a restart
// of Dialtone would (it does not serve: tests read what it loaded).
func (e *env) restarted(t *testing.T) *Server {
	t.Helper()
	e.stop()
	srv, err := New(Config{Store: e.st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func (e *env) udpAddr() *net.UDPAddr { return e.udp.LocalAddr().(*net.UDPAddr) }

// phone is a SIP endpoint on a plain UDP socket: it builds requests by hand, signs them
// with icholy/digest and can answer what the registrar sends it.
type phone struct {
	t      *testing.T
	c      *net.UDPConn
	srv    *net.UDPAddr
	user   string
	pass   string
	domain string
	callID string
	cseq   int
	ua     string
}

func newPhone(t *testing.T, e *env, user, pass, domain string) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &phone{t: t, c: c, srv: e.udpAddr(), user: user, pass: pass, domain: domain,
		callID: randHex(8) + "@phone", ua: "Yealink SIP-T46U 108.86.0.20"}
}

func (p *phone) addr() string { return p.c.LocalAddr().String() }

// send writes a request and returns the first final response.
func (p *phone) send(raw string) *sip.Response {
	p.t.Helper()
	if _, err := p.c.WriteToUDP([]byte(raw), p.srv); err != nil {
		p.t.Fatal(err)
	}
	return p.read(2 * time.Second)
}

func (p *phone) read(d time.Duration) *sip.Response {
	p.t.Helper()
	buf := make([]byte, 65536)
	deadline := time.Now().Add(d)
	for {
		p.c.SetReadDeadline(deadline)
		n, _, err := p.c.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			p.t.Fatalf("unparsable answer: %v\n%s", err, buf[:n])
		}
		if res, ok := m.(*sip.Response); ok && res.StatusCode >= 200 {
			return res
		}
	}
}

// register builds a REGISTER; extra holds further header lines.
func (p *phone) registerMsg(toUser string, auth string, extra ...string) string {
	p.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:%s SIP/2.0\r\n", p.domain)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", p.addr(), randHex(6))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", toUser, p.domain, randHex(4))
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\n", toUser, p.domain, p.callID, p.cseq)
	hasContact := false
	for _, h := range extra {
		if strings.HasPrefix(h, "Contact:") {
			hasContact = true
		}
	}
	if !hasContact {
		fmt.Fprintf(&b, "Contact: <sip:%s@%s>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-001565aabbcc>\"\r\n", toUser, p.addr())
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	fmt.Fprintf(&b, "User-Agent: %s\r\nContent-Length: 0\r\n\r\n", p.ua)
	return b.String()
}

// authorization answers a challenge of res (the first with algorithm alg, "" = first).
func (p *phone) authorization(res *sip.Response, method, uri, alg string, nc int) string {
	p.t.Helper()
	name, hname := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, hname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	for _, h := range res.GetHeaders(name) {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			p.t.Fatal(err)
		}
		if alg != "" && chal.Algorithm != alg {
			continue
		}
		c, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: p.user, Password: p.pass, Count: nc})
		if err != nil {
			p.t.Fatal(err)
		}
		return hname + ": " + c.String()
	}
	p.t.Fatalf("no %s challenge in %s", alg, res.Short())
	return ""
}

// register runs REGISTER, 401, REGISTER with credentials; it returns the final answer.
func (p *phone) register(toUser string, extra ...string) *sip.Response {
	p.t.Helper()
	res := p.send(p.registerMsg(toUser, "", extra...))
	if res == nil || res.StatusCode != 401 {
		return res
	}
	return p.send(p.registerMsg(toUser, p.authorization(res, "REGISTER", "sip:"+p.domain, "", 1), extra...))
}
