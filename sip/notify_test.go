package sip

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
)

// readRequest waits for a request sent to the phone.
func (p *phone) readRequest(d time.Duration) (*sip.Request, *net.UDPAddr) {
	p.t.Helper()
	buf := make([]byte, 65536)
	p.c.SetReadDeadline(time.Now().Add(d))
	for {
		n, from, err := p.c.ReadFromUDP(buf)
		if err != nil {
			return nil, nil
		}
		m, err := sip.ParseMessage(buf[:n])
		if err != nil {
			p.t.Fatalf("unparsable request: %v", err)
		}
		if req, ok := m.(*sip.Request); ok {
			return req, from
		}
	}
}

func (p *phone) respond(req *sip.Request, to *net.UDPAddr, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if _, err := p.c.WriteToUDP([]byte(res.String()), to); err != nil {
		p.t.Fatal(err)
	}
}

func addPhone(t *testing.T, e *env, mac string, flex bool) store.Phone {
	t.Helper()
	var ph store.Phone
	err := e.st.Update(func(tx *store.Tx) error {
		ext, err := tx.Extension("acme", "201")
		if err != nil {
			return err
		}
		p := store.Phone{MAC: mac, Tenant: "acme", Model: "T46U", Flex: flex}
		if !flex {
			p.UserID = ext.UserID
		}
		ph, err = tx.CreatePhone(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ph
}

// flexGuest adds a flex phone and a SIP phone holding its guest account's credentials.
func flexGuest(t *testing.T, e *env, mac string) (store.Phone, *phone) {
	t.Helper()
	ph := addPhone(t, e, mac, true)
	gpw, err := e.st.GuestPassword(ph)
	if err != nil {
		t.Fatal(err)
	}
	return ph, newPhone(t, e, ph.GuestUsername, gpw, e.domain)
}

// registeredPhone is a phone of MAC 00:15:65:aa:bb:cc registered with the test
// user's line, the NOTIFY its creation brought (if any) settled and drained.
func registeredPhone(t *testing.T) (*env, *phone) {
	t.Helper()
	e := newEnv(t)
	addPhone(t, e, "001565aabbcc", false)
	p := newPhone(t, e, e.user, e.pass, e.domain)
	if res := p.register(e.user); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	e.settleResyncs(t) // the NOTIFY for the phone's creation, if it found the binding
	p.drain()
	return e, p
}

// TestResyncAnswersChallenge: Resync sends NOTIFY check-sync to the registered contact
// and answers the phone's digest challenge with the account's credentials.
func TestResyncAnswersChallenge(t *testing.T) {
	t.Parallel()
	e, p := registeredPhone(t)
	errc := make(chan error, 1)
	go func() { errc <- e.srv.Resync(context.Background(), "00:15:65:AA:BB:CC") }()
	req, from := p.readRequest(3 * time.Second)
	if req == nil || req.Method != sip.NOTIFY {
		t.Fatalf("no NOTIFY: %v", req)
	}
	if ev := req.GetHeader("Event"); ev == nil || !strings.HasPrefix(ev.Value(), "check-sync") {
		t.Fatalf("Event: %v", ev)
	}
	if ss := req.GetHeader("Subscription-State"); ss == nil || ss.Value() != "terminated" {
		t.Fatalf("Subscription-State: %v", ss)
	}
	if from.String() != e.udpAddr().String() {
		t.Fatalf("NOTIFY from %s, not the registrar's socket %s", from, e.udpAddr())
	}
	chal := &digest.Challenge{Realm: "phone", Nonce: "n0nce", Algorithm: "MD5", QOP: []string{"auth"}}
	p.respond(req, from, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", chal.String()))
	req, from = p.readRequest(3 * time.Second)
	if req == nil {
		t.Fatal("no NOTIFY with credentials")
	}
	h := req.GetHeader("Authorization")
	if h == nil {
		t.Fatal("second NOTIFY without Authorization")
	}
	got, err := digest.ParseCredentials(h.Value())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := digest.Digest(chal, digest.Options{Method: "NOTIFY", URI: got.URI, Username: e.user,
		Password: e.pass, Cnonce: got.Cnonce, Count: got.Nc})
	if got.Response != want.Response {
		t.Fatal("NOTIFY credentials do not verify")
	}
	p.respond(req, from, 200, "OK")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestChangeSendsOneNotify: two quick changes to a phone's config give one NOTIFY;
// a change of what the phone reports about itself gives none.
func TestChangeSendsOneNotify(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ph := addPhone(t, e, "001565aabbcc", false)
	p := newPhone(t, e, e.user, e.pass, e.domain)
	if res := p.register(e.user); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	e.settleResyncs(t)
	p.drain()
	save := func(mut func(*store.Phone)) {
		err := e.st.Update(func(tx *store.Tx) error {
			cur, err := tx.Phone(ph.MAC)
			if err != nil {
				return err
			}
			next := cur
			mut(&next)
			return tx.SavePhone(cur, next)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	save(func(p *store.Phone) { p.LastAddr = "127.0.0.1"; p.LastSeen = time.Now() })
	if req, _ := p.readRequest(700 * time.Millisecond); req != nil {
		t.Fatalf("NOTIFY for a last-seen update: %s", req.Short())
	}
	save(func(p *store.Phone) { p.Settings = map[string]string{"a": "1"} })
	save(func(p *store.Phone) { p.Settings = map[string]string{"a": "2"} })
	n := 0
	for {
		req, from := p.readRequest(1200 * time.Millisecond)
		if req == nil {
			break
		}
		if req.Method == sip.NOTIFY {
			n++
			p.respond(req, from, 200, "OK")
		}
	}
	if n != 1 {
		t.Fatalf("%d NOTIFYs for one burst of changes, want 1", n)
	}
}

// drain answers 200 to whatever the registrar has sent so far.
// settleResyncs waits until the check-sync queue has handed out every change it holds
// (its debounce passed): what the changes so far send is on its way, and drain reads it.
func (e *env) settleResyncs(t testing.TB) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, "the check-sync queue to empty", func() bool {
		e.srv.resync.mu.Lock()
		defer e.srv.resync.mu.Unlock()
		return len(e.srv.resync.due) == 0
	})
}

func (p *phone) drain() {
	for req, from := p.readRequest(100 * time.Millisecond); req != nil; req, from = p.readRequest(100 * time.Millisecond) {
		p.respond(req, from, 200, "OK")
	}
}
