package sip

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// watcher is a phone with a BLF key: it subscribes to dialog for an extension.
type watcher struct {
	*phone
	subCallID, fromTag, toTag string
	target                    string // the Request-URI of in-dialog SUBSCRIBEs (our Contact)
	subCSeq                   int
}

// blfLine adds user Bob with extension 202 in acme and a phone holding his line.
func blfLine(t *testing.T, e *env) *watcher {
	t.Helper()
	err := e.st.Update(func(tx *store.Tx) error {
		_, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Bob", LastName: "Baker",
			Email: "bob@acme.example", Role: store.RoleUser, Extensions: []string{"202"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := e.st.Extension("acme", "202")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := e.st.SIPPassword(ext)
	if err != nil {
		t.Fatal(err)
	}
	return &watcher{phone: newPhone(t, e, ext.SIPUsername, pw, e.domain), subCallID: randHex(8) + "@blf", fromTag: randHex(4)}
}

// subscribeMsg builds a SUBSCRIBE to uri; in the dialog once toTag is known.
func (w *watcher) subscribeMsg(uri, event string, expires int, auth string, extra ...string) string {
	w.subCSeq++
	var b strings.Builder
	fmt.Fprintf(&b, "SUBSCRIBE %s SIP/2.0\r\n", uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", w.addr(), randHex(6))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=%s\r\n", w.user, w.domain, w.fromTag)
	to := strings.TrimPrefix(uri, "sip:")
	if w.toTag != "" {
		fmt.Fprintf(&b, "To: <sip:201@%s>;tag=%s\r\n", w.domain, w.toTag)
	} else {
		fmt.Fprintf(&b, "To: <sip:%s>\r\n", to)
	}
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d SUBSCRIBE\r\n", w.subCallID, w.subCSeq)
	fmt.Fprintf(&b, "Contact: <sip:%s@%s>\r\nEvent: %s\r\nExpires: %d\r\n", w.user, w.addr(), event, expires)
	b.WriteString("Accept: application/dialog-info+xml\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("User-Agent: Yealink SIP-T46U 108.86.0.20\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// subscribe sends a SUBSCRIBE, answers the challenge, and returns the final answer.
func (w *watcher) subscribe(uri, event string, expires int) *sip.Response {
	w.t.Helper()
	res := w.send(w.subscribeMsg(uri, event, expires, ""))
	if res == nil || res.StatusCode != 401 {
		return res
	}
	return w.send(w.subscribeMsg(uri, event, expires, w.authorization(res, "SUBSCRIBE", uri, "", 1)))
}

// notify waits for the next NOTIFY, answers it 200 and returns its state and body.
func (w *watcher) notify() (state, body string, req *sip.Request) {
	w.t.Helper()
	req, from := w.readRequest(5 * time.Second)
	if req == nil {
		w.t.Fatal("no NOTIFY within 5 s")
	}
	if req.Method != sip.NOTIFY {
		w.t.Fatalf("got %s, want NOTIFY", req.Method)
	}
	w.respond(req, from, 200, "OK")
	if h := req.GetHeader("Event"); h == nil || h.Value() != "dialog" {
		w.t.Errorf("NOTIFY Event: %v", h)
	}
	if h := req.GetHeader("Content-Type"); h == nil || h.Value() != "application/dialog-info+xml" {
		w.t.Errorf("NOTIFY Content-Type: %v", h)
	}
	if req.CallID().Value() != w.subCallID || !strings.Contains(req.To().Value(), "tag="+w.fromTag) {
		w.t.Errorf("NOTIFY outside the subscription dialog: Call-ID %s To %s", req.CallID().Value(), req.To().Value())
	}
	return req.GetHeader("Subscription-State").Value(), string(req.Body()), req
}

var (
	versionRe = regexp.MustCompile(`<dialog-info [^>]*version="(\d+)" state="full" entity="([^"]+)"`)
	stateRe   = regexp.MustCompile(`<dialog id="[^"]+" direction="(\w+)">\s*<state>(\w+)</state>`)
)

// dialogs reads a dialog-info body: its version, entity and "direction:state" per dialog.
func dialogs(t *testing.T, body string) (version, entity string, states []string) {
	t.Helper()
	m := versionRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("not a full dialog-info document:\n%s", body)
	}
	for _, s := range stateRe.FindAllStringSubmatch(body, -1) {
		states = append(states, s[1]+":"+s[2])
	}
	return m[1], m[2], states
}

// TestBLFFollowsCalls: a line subscribes to 201, gets the full state at once, then a
// NOTIFY as each call of 201 rings, is answered and ends (both as callee and as
// caller), with the version one up each time; a refresh and an unsubscribe.
func TestBLFFollowsCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := blfLine(t, e)
	uri := "sip:201@" + e.domain

	res := w.send(w.subscribeMsg(uri, "dialog", 600, ""))
	if res == nil || res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil {
		t.Fatalf("SUBSCRIBE without credentials: %v, want a 401 challenge", res)
	}
	res = w.send(w.subscribeMsg(uri, "dialog", 600, w.authorization(res, "SUBSCRIBE", uri, "", 1)))
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %v", res)
	}
	if h := res.GetHeader("Expires"); h == nil || h.Value() != "600" {
		t.Errorf("Expires granted: %v", h)
	}
	w.toTag, _ = res.To().Params.Get("tag")
	w.target = res.Contact().Address.String()
	if w.toTag == "" || !strings.HasPrefix(w.target, "sip:201@") {
		t.Fatalf("200 without a To tag or a Contact: %s", res)
	}

	state, body, _ := w.notify()
	if !strings.HasPrefix(state, "active;expires=") {
		t.Errorf("first NOTIFY Subscription-State %q", state)
	}
	if v, entity, ds := dialogs(t, body); v != "0" || entity != "sip:201@acme.example" || len(ds) != 0 {
		t.Errorf("first NOTIFY: version %s entity %s dialogs %v, want 0, 201, idle", v, entity, ds)
	}

	// A call from outside to 201, then 201 calling 202 and finding it busy.
	calls := e.srv.cfg.Calls
	in := CallEvent{Tenant: "acme", CallID: "in-1@upstream", From: "+31201234567", To: "201",
		Route: Route{Kind: RouteInternal, UserID: "u201", Extension: "201", AORs: []string{e.user}}}
	out := CallEvent{Tenant: "acme", CallID: "out-1@phone", From: "201", To: "202",
		Caller: Caller{Tenant: "acme", Username: e.user, Extension: "201"},
		Route:  Route{Kind: RouteInternal, Extension: "202"}}
	steps := []struct {
		ev    CallEvent
		kind  CallEventKind
		want  []string
		quiet bool // 201's state does not change: no NOTIFY
	}{
		{in, CallStarted, nil, true},
		{in, CallRinging, []string{"recipient:early"}, false},
		{in, CallAnswered, []string{"recipient:confirmed"}, false},
		{in, CallEnded, []string{"recipient:terminated"}, false},
		{out, CallStarted, []string{"initiator:trying"}, false},
		{out, CallEnded, []string{"initiator:terminated"}, false},
	}
	version := 1
	for _, s := range steps {
		ev := s.ev
		ev.Kind, ev.At, ev.Code = s.kind, time.Now(), 0
		if s.kind == CallEnded {
			ev.Code = 200
		}
		calls.CallEvent(ev)
		if s.quiet {
			continue
		}
		state, body, _ := w.notify()
		v, _, ds := dialogs(t, body)
		if v != fmt.Sprint(version) || fmt.Sprint(ds) != fmt.Sprint(s.want) || !strings.HasPrefix(state, "active") {
			t.Errorf("after %v of %s: version %s dialogs %v (%s), want %d %v", s.kind, ev.CallID, v, ds, state, version, s.want)
		}
		if s.kind == CallRinging && !strings.Contains(body, "<remote><identity>sip:+31201234567@acme.example</identity></remote>") {
			t.Errorf("the ringing dialog does not show the caller:\n%s", body)
		}
		version++
	}

	// A refresh in the dialog: 200 and a NOTIFY with the state (idle again).
	if res := w.subscribe(w.target, "dialog", 300); res == nil || res.StatusCode != 200 || res.GetHeader("Expires").Value() != "300" {
		t.Fatalf("refresh: %v", res)
	}
	if _, body, _ := w.notify(); !strings.Contains(body, fmt.Sprintf(`version="%d"`, version)) || strings.Contains(body, "<dialog ") {
		t.Errorf("NOTIFY after the refresh:\n%s", body)
	}
	version++
	// Unsubscribe: a last NOTIFY, terminated.
	if res := w.subscribe(w.target, "dialog", 0); res == nil || res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %v", res)
	}
	if state, body, _ := w.notify(); state != "terminated;reason=timeout" || !strings.Contains(body, fmt.Sprintf(`version="%d"`, version)) {
		t.Errorf("last NOTIFY: %s\n%s", state, body)
	}
	testkit.Eventually(t, 5*time.Second, "the subscription gone", func() bool { return e.srv.DialogSubscriptions() == 0 })
	if res := w.subscribe(w.target, "dialog", 300); res == nil || res.StatusCode != 481 {
		t.Errorf("refresh of an ended subscription: %v, want 481", res)
	}
}

// TestBLFRefusals: only an authenticated line, only an extension of its own tenant,
// only the dialog package (presence and message-summary: 489 with Allow-Events).
func TestBLFRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := blfLine(t, e)

	// Another tenant's extension: 403 once the line is authenticated in its own tenant,
	// again and again (a BLF key set wrong retries), and never counted as a wrong
	// password: the phone's address is not blocked, its REGISTER still goes through.
	for range 12 {
		w.subCallID = randHex(8) + "@blf"
		if res := w.subscribe("sip:301@other.example", "dialog", 600); res == nil || res.StatusCode != 403 {
			t.Fatalf("SUBSCRIBE to another tenant's extension: %v, want 403", res)
		}
	}
	if res := w.register(w.user); res == nil || res.StatusCode != 200 {
		t.Errorf("REGISTER after the refused SUBSCRIBEs: %v, want 200 (the source was not blocked)", res)
	}
	w.subCallID = randHex(8) + "@blf"
	if res := w.subscribe("sip:299@"+e.domain, "dialog", 600); res == nil || res.StatusCode != 404 {
		t.Errorf("SUBSCRIBE to no extension: %v, want 404", res)
	}
	// Wrong password: 403, never a subscription.
	w.subCallID = randHex(8) + "@blf"
	pass := w.pass
	w.pass = "wrong"
	if res := w.subscribe("sip:201@"+e.domain, "dialog", 600); res == nil || res.StatusCode != 403 {
		t.Errorf("SUBSCRIBE with a wrong password: %v, want 403", res)
	}
	w.pass = pass
	// A subscription in a dialog we never made.
	w.subCallID, w.toTag = randHex(8)+"@blf", "forged"
	if res := w.subscribe("sip:201@"+e.domain, "dialog", 600); res == nil || res.StatusCode != 481 {
		t.Errorf("SUBSCRIBE in an unknown dialog: %v, want 481", res)
	}
	w.toTag = ""
	for _, ev := range []string{"presence", "message-summary"} {
		w.subCallID = randHex(8) + "@blf"
		res := w.send(w.subscribeMsg("sip:201@"+e.domain, ev, 600, ""))
		if res == nil || res.StatusCode != 489 {
			t.Errorf("SUBSCRIBE %s: %v, want 489", ev, res)
			continue
		}
		if h := res.GetHeader("Allow-Events"); h == nil || !strings.Contains(h.Value(), "dialog") {
			t.Errorf("489 to %s: Allow-Events %v", ev, h)
		}
	}
	// Too brief.
	w.subCallID = randHex(8) + "@blf"
	if res := w.subscribe("sip:201@"+e.domain, "dialog", 10); res == nil || res.StatusCode != 423 || res.GetHeader("Min-Expires").Value() != "60" {
		t.Errorf("Expires 10: %v, want 423 Min-Expires 60", res)
	}
	if n := e.srv.DialogSubscriptions(); n != 0 {
		t.Errorf("%d subscriptions held after refusals", n)
	}
}

// TestBLFExpiry: a subscription not refreshed ends with a NOTIFY terminated;reason=timeout.
func TestBLFExpiry(t *testing.T) {
	t.Parallel()
	clock := &testkit.Clock{}
	e := newEnv(t, func(e *env) { e.cfgHook = func(c *Config) { c.Now = clock.Now } })
	w := blfLine(t, e)
	if res := w.subscribe("sip:201@"+e.domain, "dialog", 60); res == nil || res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %v", res)
	}
	if state, _, _ := w.notify(); !strings.HasPrefix(state, "active;expires=") {
		t.Fatalf("first NOTIFY: %s", state)
	}
	clock.Advance(61 * time.Second)
	if state, body, _ := w.notify(); state != "terminated;reason=timeout" || !strings.Contains(body, `version="1"`) {
		t.Errorf("NOTIFY at expiry: %s\n%s", state, body)
	}
	testkit.Eventually(t, 5*time.Second, "the subscription gone", func() bool { return e.srv.DialogSubscriptions() == 0 })
}

// TestBLFOverTCP: a subscription made over TCP is notified over that connection, and
// one whose connection closed is ended, never notified over another transport.
func TestBLFOverTCP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := blfLine(t, e)
	c, err := net.Dial("tcp", e.tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd := newStreamReader(c)
	uri := "sip:201@" + e.domain
	msg := func(auth string) string {
		m := w.subscribeMsg(uri, "dialog", 600, auth)
		m = strings.Replace(m, "SIP/2.0/UDP "+w.addr(), "SIP/2.0/TCP "+c.LocalAddr().String(), 1)
		return strings.Replace(m, "<sip:"+w.user+"@"+w.addr()+">", "<sip:"+w.user+"@"+c.LocalAddr().String()+";transport=tcp>", 1)
	}
	c.Write([]byte(msg("")))
	res := rd.response(t)
	if res.StatusCode != 401 {
		t.Fatalf("over TCP: %s", res.Short())
	}
	c.Write([]byte(msg(w.authorization(res, "SUBSCRIBE", uri, "", 1))))
	if res := rd.response(t); res.StatusCode != 200 || !strings.Contains(res.Contact().Value(), "transport=tcp") {
		t.Fatalf("over TCP: %s", res)
	}
	req := rd.request(t)
	if req.Method != sip.NOTIFY || !strings.HasPrefix(req.Via().Value(), "SIP/2.0/TCP") {
		t.Fatalf("NOTIFY over TCP: %s", req)
	}
	c.Write([]byte(sip.NewResponseFromRequest(req, 200, "OK", nil).String()))
	c.Close()
	// The connection is gone: the next change ends the subscription, nothing goes by UDP.
	testkit.Eventually(t, 5*time.Second, "the connection dropped", func() bool {
		e.srv.mu.Lock()
		defer e.srv.mu.Unlock()
		return len(e.srv.tcp) == 0
	})
	e.srv.cfg.Calls.CallEvent(CallEvent{Kind: CallRinging, Tenant: "acme", CallID: "x@y", From: "202",
		Route: Route{Kind: RouteInternal, Extension: "201"}})
	testkit.Eventually(t, 5*time.Second, "the subscription ended", func() bool { return e.srv.DialogSubscriptions() == 0 })
	if n := e.srv.FlowsLost(); n != 1 {
		t.Errorf("flows lost: %d, want 1", n)
	}
}

// streamReader reads SIP messages off a TCP connection, framed by Content-Length.
type streamReader struct {
	c net.Conn
	r *bufio.Reader
}

func newStreamReader(c net.Conn) *streamReader { return &streamReader{c: c, r: bufio.NewReader(c)} }

func (s *streamReader) next(t *testing.T) sip.Message {
	t.Helper()
	s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := readFramed(t, s.r)
	if err != nil {
		t.Fatalf("reading the connection: %v", err)
	}
	return m
}

func (s *streamReader) response(t *testing.T) *sip.Response {
	t.Helper()
	for {
		if res, ok := s.next(t).(*sip.Response); ok && res.StatusCode >= 200 {
			return res
		}
	}
}

func (s *streamReader) request(t *testing.T) *sip.Request {
	t.Helper()
	for {
		if req, ok := s.next(t).(*sip.Request); ok {
			return req
		}
	}
}

// TestBLFCaps: subscriptions from one source stop at the cap (503 with Retry-After),
// and an unsubscribe frees a place.
func TestBLFCaps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.blf.mu.Lock()
	e.srv.blf.maxPerSource = 2
	e.srv.blf.mu.Unlock()
	w := blfLine(t, e)
	uri := "sip:201@" + e.domain
	var first string
	for i := range 3 {
		w.subCallID = fmt.Sprintf("cap-%d@blf", i)
		res := w.subscribe(uri, "dialog", 600)
		if i < 2 {
			if res == nil || res.StatusCode != 200 {
				t.Fatalf("subscription %d: %v", i, res)
			}
			w.notify()
			if i == 0 {
				first, _ = res.To().Params.Get("tag")
			}
			continue
		}
		if res == nil || res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
			t.Fatalf("subscription over the cap: %v, want 503 with Retry-After", res)
		}
	}
	w.subCallID, w.toTag = "cap-0@blf", first
	if res := w.subscribe(uri, "dialog", 0); res == nil || res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %v", res)
	}
	w.notify()
	w.subCallID, w.toTag = "cap-2@blf", ""
	if res := w.subscribe(uri, "dialog", 600); res == nil || res.StatusCode != 200 {
		t.Errorf("after an unsubscribe: %v, want 200", res)
	}
}

// TestBLFSendersBounded: with every sender busy (a NOTIFY unanswered), another
// subscription's NOTIFY waits its turn and goes out once a sender is free.
func TestBLFSendersBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.srv.blf
	d.mu.Lock()
	d.maxSenders = 1
	d.mu.Unlock()
	w := blfLine(t, e)
	uri := "sip:201@" + e.domain
	w.subCallID = "first@blf"
	if res := w.subscribe(uri, "dialog", 600); res == nil || res.StatusCode != 200 {
		t.Fatalf("first: %v", res)
	}
	first, from := w.readRequest(5 * time.Second) // in flight, not answered yet
	if first == nil || first.CallID().Value() != "first@blf" {
		t.Fatalf("first NOTIFY: %v", first)
	}
	w.subCallID = "second@blf"
	if res := w.subscribe(uri, "dialog", 600); res == nil || res.StatusCode != 200 {
		t.Fatalf("second: %v", res)
	}
	testkit.Eventually(t, 5*time.Second, "the second NOTIFY waiting for a sender", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return len(d.waiting) == 1 && d.senders == 1
	})
	w.respond(first, from, 200, "OK")
	for {
		req, from := w.readRequest(5 * time.Second)
		if req == nil {
			t.Fatal("the waiting NOTIFY was never sent")
		}
		w.respond(req, from, 200, "OK")
		if req.CallID().Value() == "second@blf" {
			break
		}
	}
	testkit.Eventually(t, 5*time.Second, "the sender gone", func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.senders == 0 && len(d.waiting) == 0
	})
}

// BenchmarkBLFCallSteps: what one internal call's four steps cost the proxy's goroutine
// in the BLF notifier, with nobody watching either extension.
func BenchmarkBLFCallSteps(b *testing.B) {
	e := newEnv(b)
	calls := e.srv.cfg.Calls
	ev := CallEvent{Tenant: "acme", From: "202", To: "201",
		Caller: Caller{Tenant: "acme", Extension: "202"},
		Route:  Route{Kind: RouteInternal, Extension: "201"}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev.CallID = "bench-" + strconv.Itoa(i)
		for _, k := range []CallEventKind{CallStarted, CallRinging, CallAnswered, CallEnded} {
			ev.Kind = k
			calls.CallEvent(ev)
		}
	}
}

// TestBLFCapFollowsAMove: a subscription refreshed from another source counts against
// that source's cap from then on, so moving subscriptions does not get round it.
func TestBLFCapFollowsAMove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.srv.blf.mu.Lock()
	e.srv.blf.maxPerSource = 1
	e.srv.blf.mu.Unlock()
	w := blfLine(t, e)
	uri := "sip:201@" + e.domain
	w.subCallID = "move-a@blf"
	res := w.subscribe(uri, "dialog", 600)
	if res == nil || res.StatusCode != 200 {
		t.Fatalf("first subscription: %v", res)
	}
	w.notify()
	toTag, _ := res.To().Params.Get("tag")
	// The same subscription refreshed from 127.0.0.2.
	c2, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })
	first := w.c
	w.c, w.toTag = c2, toTag
	if res := w.subscribe(uri, "dialog", 600); res == nil || res.StatusCode != 200 {
		t.Fatalf("refresh from 127.0.0.2: %v", res)
	}
	w.notify()
	// 127.0.0.2 now holds its one subscription: a second is over its cap ...
	w.subCallID, w.toTag, w.fromTag = "move-b@blf", "", randHex(4)
	if res := w.subscribe(uri, "dialog", 600); res == nil || res.StatusCode != 503 {
		t.Fatalf("a second subscription from 127.0.0.2: %v, want 503", res)
	}
	// ... and 127.0.0.1 has its place back.
	w.c, w.subCallID, w.fromTag = first, "move-c@blf", randHex(4)
	if res := w.subscribe(uri, "dialog", 600); res == nil || res.StatusCode != 200 {
		t.Fatalf("a new subscription from 127.0.0.1: %v, want 200", res)
	}
	w.notify()
}
