package sip

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// storeDialplan routes the tests' calls over the real store: an extension of the
// tenant rings its SIP account, the tenant's emergency numbers and numbers starting
// with 0 go upstream, anything else is refused 404.
type storeDialplan struct{ st *store.Store }

func (d storeDialplan) Outbound(ctx context.Context, c Caller, dialled string) (Route, error) {
	t, err := d.st.Tenant(c.Tenant)
	if err != nil {
		return Route{}, err
	}
	for _, n := range append([]string{"112"}, t.EmergencyNumbers...) {
		if n == dialled {
			return Route{Kind: RouteEmergency, Number: dialled, CallerID: "4930123"}, nil
		}
	}
	if strings.HasPrefix(dialled, "0") {
		return Route{Kind: RouteUpstream, Number: dialled[1:], CallerID: "4930123", CallerName: "Acme"}, nil
	}
	ext, err := d.st.Extension(c.Tenant, dialled)
	if err != nil {
		return Route{Kind: RouteRefuse, Code: 404, Reason: "No such number"}, nil
	}
	return Route{Kind: RouteInternal, AORs: []string{ext.SIPUsername}, UserID: ext.UserID, Extension: dialled}, nil
}

func (d storeDialplan) Inbound(ctx context.Context, tenant, number string) (Route, error) {
	if number != "4930123202" {
		return Route{Kind: RouteRefuse, Code: 404, Reason: "Not Found"}, nil
	}
	return d.Outbound(ctx, Caller{Tenant: tenant}, "202")
}

// observer records call events.
type observer struct {
	mu sync.Mutex
	ev []CallEvent
}

func (o *observer) CallEvent(e CallEvent) {
	o.mu.Lock()
	o.ev = append(o.ev, e)
	o.mu.Unlock()
}

func (o *observer) kinds(callID string) []CallEventKind {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []CallEventKind
	for _, e := range o.ev {
		if e.CallID == callID {
			out = append(out, e.Kind)
		}
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// callEnv is a registrar with the proxy on, two lines 201 and 202 in tenant acme.
type callEnv struct {
	*env
	obs   *observer
	user2 string
	pass2 string
}

func newCallEnv(t *testing.T, hooks ...func(*Config)) *callEnv {
	t.Helper()
	ce := &callEnv{obs: &observer{}}
	st, err := store.Open(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	err = st.Update(func(tx *store.Tx) error {
		for _, slug := range []string{"default", "acme", "other"} {
			dom := slug + ".example"
			if slug == "default" {
				dom = ""
			}
			if _, err := tx.CreateTenant(store.NewTenant{Slug: slug, SIPDomain: dom}); err != nil {
				return err
			}
		}
		for i, name := range []string{"Ann", "Bob"} {
			if _, _, err := tx.CreateUser("acme", store.NewUser{FirstName: name, LastName: "Archer",
				Email: strings.ToLower(name) + "@acme.example", Role: store.RoleUser,
				Extensions: []string{strconv.Itoa(201 + i)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ce.env = newEnv(t, func(e *env) {
		e.st = st
		e.cfgHook = func(c *Config) {
			c.Dialplan = storeDialplan{st}
			c.Calls = ce.obs
			for _, h := range hooks {
				h(c)
			}
		}
	})
	ext, _ := st.Extension("acme", "202")
	ce.user2 = ext.SIPUsername
	ce.pass2, _ = st.SIPPassword(ext)
	return ce
}

// ua is a SIP phone on a real socket (UDP, or a TCP connection to the server): it
// registers, places and answers calls, and keeps every message it receives.
type ua struct {
	t         *testing.T
	transport string
	udp       *net.UDPConn
	tcp       net.Conn
	srv       *net.UDPAddr
	user      string
	pass      string
	domain    string
	instance  string
	cseq      int
	inbox     chan sip.Message
}

func (ce *callEnv) line(t *testing.T, n int, transport string) *ua {
	user, pass := ce.user, ce.pass
	if n == 202 {
		user, pass = ce.user2, ce.pass2
	}
	return newUA(t, ce.env, user, pass, transport)
}

func newUA(t *testing.T, e *env, user, pass, transport string) *ua {
	t.Helper()
	u := newPeer(t, e, user, pass, transport)
	res := u.request("REGISTER", "sip:"+u.domain, u.user, "", func(b *strings.Builder) {
		fmt.Fprintf(b, "Contact: <sip:%s@%s>;+sip.instance=\"<urn:uuid:%s>\"\r\n", u.user, u.addr(), u.instance)
	})
	if res.StatusCode != 200 {
		t.Fatalf("register %s: %d %s", user, res.StatusCode, res.Reason)
	}
	return u
}

// newPeer is a SIP endpoint on a socket that does not register (an upstream).
func newPeer(t *testing.T, e *env, user, pass, transport string) *ua {
	t.Helper()
	u := &ua{t: t, transport: transport, srv: e.udpAddr(), user: user, pass: pass, domain: e.domain,
		instance: randHex(6), inbox: make(chan sip.Message, 64)}
	if transport == "TCP" {
		c, err := net.Dial("tcp", e.tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		u.tcp = c
		t.Cleanup(func() { c.Close() })
		go u.readTCP()
	} else {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		u.udp = c
		t.Cleanup(func() { c.Close() })
		go u.readUDP()
	}
	return u
}

func (u *ua) addr() string {
	if u.tcp != nil {
		return u.tcp.LocalAddr().String()
	}
	return u.udp.LocalAddr().String()
}

func (u *ua) readUDP() {
	buf := make([]byte, 65536)
	for {
		n, _, err := u.udp.ReadFromUDP(buf)
		if err != nil {
			close(u.inbox)
			return
		}
		if m, err := sip.ParseMessage(bytes.Clone(buf[:n])); err == nil {
			u.inbox <- m
		}
	}
}

func (u *ua) readTCP() {
	r := bufio.NewReader(u.tcp)
	for {
		var head []byte
		clen := 0
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				close(u.inbox)
				return
			}
			head = append(head, line...)
			if n, ok := contentLength(line); ok {
				clen = n
			}
			if len(bytes.TrimSpace(line)) == 0 && len(head) > 2 {
				break
			}
		}
		body := make([]byte, clen)
		if _, err := io.ReadFull(r, body); err != nil {
			close(u.inbox)
			return
		}
		if m, err := sip.ParseMessage(append(head, body...)); err == nil {
			u.inbox <- m
		}
	}
}

func (u *ua) send(msg string) {
	u.t.Helper()
	var err error
	if u.tcp != nil {
		_, err = u.tcp.Write([]byte(msg))
	} else {
		_, err = u.udp.WriteToUDP([]byte(msg), u.srv)
	}
	if err != nil {
		u.t.Fatal(err)
	}
}

// next waits for the next message that match accepts; others are dropped.
func (u *ua) next(what string, match func(sip.Message) bool) sip.Message {
	u.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-u.inbox:
			if !ok {
				u.t.Fatalf("%s: connection closed waiting for %s", u.user, what)
			}
			if match(m) {
				return m
			}
		case <-timeout:
			u.t.Fatalf("%s: timed out waiting for %s", u.user, what)
		}
	}
}

func (u *ua) expectRequest(method sip.RequestMethod) *sip.Request {
	u.t.Helper()
	return u.next(string(method), func(m sip.Message) bool {
		r, ok := m.(*sip.Request)
		return ok && r.Method == method
	}).(*sip.Request)
}

// final waits for a final response to CSeq method.
func (u *ua) final(method sip.RequestMethod) *sip.Response {
	u.t.Helper()
	return u.next("final answer to "+string(method), func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode >= 200 && r.CSeq().MethodName == method
	}).(*sip.Response)
}

func (u *ua) response(code int) *sip.Response {
	u.t.Helper()
	return u.next(fmt.Sprintf("a %d", code), func(m sip.Message) bool {
		r, ok := m.(*sip.Response)
		return ok && r.StatusCode == code
	}).(*sip.Response)
}

func (u *ua) via(branch string) string {
	return fmt.Sprintf("Via: SIP/2.0/%s %s;branch=%s;rport\r\n", u.transport, u.addr(), branch)
}

// request sends an out-of-dialog request from the line and answers one challenge; it
// returns the final answer.
func (u *ua) request(method, ruri, toUser, callID string, extra func(*strings.Builder)) *sip.Response {
	u.t.Helper()
	if callID == "" {
		callID = randHex(8)
	}
	tag := randHex(4)
	auth := ""
	for range 2 {
		u.cseq++
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n%s", method, ruri, u.via("z9hG4bK"+randHex(8)))
		fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", u.user, u.domain, tag)
		fmt.Fprintf(&b, "To: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\n", toUser, u.domain, callID, u.cseq, method)
		if extra != nil {
			extra(&b)
		}
		b.WriteString(auth)
		b.WriteString("Content-Length: 0\r\n\r\n")
		u.send(b.String())
		res := u.final(sip.RequestMethod(method))
		if res.StatusCode != 401 && res.StatusCode != 407 || auth != "" {
			return res
		}
		auth = u.authorization(res, method, ruri) + "\r\n"
	}
	return nil
}

func (u *ua) authorization(res *sip.Response, method, uri string) string {
	name, hname := "WWW-Authenticate", "Authorization"
	if res.StatusCode == 407 {
		name, hname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	chal, err := digest.ParseChallenge(res.GetHeader(name).Value())
	if err != nil {
		u.t.Fatal(err)
	}
	c, err := digest.Digest(chal, digest.Options{Method: method, URI: uri, Username: u.user, Password: u.pass, Count: 1})
	if err != nil {
		u.t.Fatal(err)
	}
	return hname + ": " + c.String()
}

// outCall is a call the ua placed.
type outCall struct {
	u       *ua
	callID  string
	fromTag string
	cseq    int
	ruri    string
	invite  string // the last INVITE sent
	branch  string
}

// inviteMsg writes an INVITE of the call.
func (c *outCall) inviteMsg(fromUser, auth string, extra ...string) string {
	u := c.u
	c.branch = "z9hG4bK" + randHex(8)
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE %s SIP/2.0\r\n%s", c.ruri, u.via(c.branch))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", fromUser, u.domain, c.fromTag)
	fmt.Fprintf(&b, "To: <%s>\r\nCall-ID: %s\r\nCSeq: %d INVITE\r\n", c.ruri, c.callID, c.cseq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s;transport=%s>\r\n", u.user, u.addr(), strings.ToLower(u.transport))
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
	fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
	c.invite = b.String()
	return c.invite
}

// call dials from the line: INVITE, 407, ACK, INVITE with credentials. It returns with
// the authenticated INVITE sent. fromUser "" is the line's own.
func (u *ua) call(dialled, fromUser string, extra ...string) *outCall {
	u.t.Helper()
	if fromUser == "" {
		fromUser = u.user
	}
	c := &outCall{u: u, callID: randHex(8), fromTag: randHex(4), cseq: 1, ruri: "sip:" + dialled + "@" + u.domain}
	u.send(c.inviteMsg(fromUser, "", extra...))
	res := u.final(sip.INVITE)
	if res.StatusCode != 407 {
		u.t.Fatalf("first INVITE: %d %s, want 407", res.StatusCode, res.Reason)
	}
	c.ackNon2xx(res)
	c.cseq++
	u.send(c.inviteMsg(fromUser, u.authorization(res, "INVITE", c.ruri), extra...))
	return c
}

// ackNon2xx acknowledges a non-2xx final answer (RFC 3261 §17.1.1.3: the INVITE's branch).
func (c *outCall) ackNon2xx(res *sip.Response) {
	u := c.u
	var b strings.Builder
	fmt.Fprintf(&b, "ACK %s SIP/2.0\r\n%s", c.ruri, u.via(c.branch))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", u.user, u.domain, c.fromTag)
	fmt.Fprintf(&b, "%s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n", res.To().String(), c.callID, c.cseq)
	u.send(b.String())
}

// inDialog sends a request within the dialog a 2xx set up (RFC 3261 §12.2.1.1: the
// reversed Record-Route as Route, the remote Contact as Request-URI).
func (u *ua) inDialog(method string, cseq int, ruri string, routes []string, from, to, callID string) {
	u.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n%s", method, ruri, u.via("z9hG4bK"+randHex(8)))
	for _, r := range routes {
		fmt.Fprintf(&b, "Route: %s\r\n", r)
	}
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
		from, to, callID, cseq, method)
	u.send(b.String())
}

// answer sends a response to req with the callee's tag; 1xx and 2xx echo its
// Record-Route (RFC 3261 §12.1.1) and give a Contact.
func (u *ua) answer(req *sip.Request, code int, reason, tag string) {
	u.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, v := range req.GetHeaders("Via") {
		b.WriteString(v.String() + "\r\n")
	}
	if code > 100 && code < 300 {
		for _, r := range req.GetHeaders("Record-Route") {
			b.WriteString(r.String() + "\r\n")
		}
	}
	b.WriteString(req.From().String() + "\r\n")
	to := req.To().String()
	if _, ok := req.To().Params.Get("tag"); !ok && tag != "" {
		to += ";tag=" + tag
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\n%s\r\n", req.CallID().Value(), req.CSeq().String())
	if code < 300 && req.Method == sip.INVITE {
		fmt.Fprintf(&b, "Contact: <sip:%s@%s;transport=%s>\r\n", u.user, u.addr(), strings.ToLower(u.transport))
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	u.send(b.String())
}

// routeSet is the Record-Route of m as Route values, reversed when the caller reads it.
func routeSet(m sip.Message, reverse bool) []string {
	var out []string
	for _, h := range m.GetHeaders("Record-Route") {
		out = append(out, h.Value())
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}
