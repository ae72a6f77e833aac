package sip

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// flexEnv is a registrar over a store with user 201 (PIN 482916) in tenant acme and the
// storeFlex desk.
func flexEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, func(e *env) {
		st, err := store.Open(store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		err = st.Update(func(tx *store.Tx) error {
			if _, err := tx.CreateTenant(store.NewTenant{Slug: "acme", SIPDomain: "acme.example"}); err != nil {
				return err
			}
			_, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "A", LastName: "B", Email: "a@acme.example",
				Role: store.RoleUser, Extensions: []string{"201"}, PIN: "482916"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		e.st = st
		e.flex = &storeFlex{st: st, wrong: map[string]int{}}
	})
}

// expectNotify waits for a check-sync NOTIFY and answers it.
func (p *phone) expectNotify(what string) {
	p.t.Helper()
	req, from := p.readRequest(3 * time.Second)
	if req == nil || req.Method != sip.NOTIFY {
		p.t.Fatalf("%s: no NOTIFY at the phone (got %v)", what, req)
	}
	if ev := req.GetHeader("Event"); ev == nil || !strings.HasPrefix(ev.Value(), "check-sync") {
		p.t.Fatalf("%s: Event %v", what, ev)
	}
	p.respond(req, from, 200, "OK")
}

// TestFlexLogoutNotifiesUserLine: once logged in, a flex phone re-provisions, drops its
// guest registration and registers the user's line. Dialling *56 from that line must
// still reach the phone with the check-sync NOTIFY (found by the MAC its registration
// carries), or it keeps the user's config until its next periodic fetch.
func TestFlexLogoutNotifiesUserLine(t *testing.T) {
	t.Parallel()
	e := flexEnv(t)
	ph, p := flexGuest(t, e, "001565aabbcc")
	if res := p.register(ph.GuestUsername); res.StatusCode != 200 {
		t.Fatalf("guest register: %d", res.StatusCode)
	}
	e.settleResyncs(t) // the NOTIFY for the phone's creation, if it found the binding
	p.drain()
	if res := p.dial("*55*201*482916"); res.StatusCode != 603 {
		t.Fatalf("login: %d %s", res.StatusCode, res.Reason)
	}
	p.expectNotify("login")

	// The phone's new config: the guest account goes, the user's line comes.
	if res := p.register(ph.GuestUsername, "Expires: 0"); res.StatusCode != 200 {
		t.Fatalf("guest unregister: %d", res.StatusCode)
	}
	p.user, p.pass, p.callID = e.user, e.pass, randHex(8)+"@phone"
	if res := p.register(e.user); res.StatusCode != 200 {
		t.Fatalf("user register: %d", res.StatusCode)
	}
	p.drain()
	if res := p.dial("*56"); res.StatusCode != 603 || res.Reason != "Logged out" {
		t.Fatalf("logout: %d %s", res.StatusCode, res.Reason)
	}
	p.expectNotify("logout")
}

// TestStoreDirectoryFlexSession: a flex phone with somebody logged in registers with that
// user's lines, and a change to the user concerns the phone too.
func TestStoreDirectoryFlexSession(t *testing.T) {
	t.Parallel()
	e := flexEnv(t)
	ph := addPhone(t, e, "001565aabbcc", true)
	ext, err := e.st.Extension("acme", "201")
	if err != nil {
		t.Fatal(err)
	}
	d := StoreDirectory{e.st}
	if _, names, err := d.Phone(ph.MAC); err != nil || slices.Contains(names, ext.SIPUsername) {
		t.Fatalf("before login: %v %v", names, err)
	}
	err = e.st.Update(func(tx *store.Tx) error {
		return tx.StartFlex(store.FlexSession{Tenant: "acme", MAC: ph.MAC, UserID: ext.UserID,
			Extension: "201", Since: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	_, names, err := d.Phone(ph.MAC)
	if err != nil || !slices.Contains(names, ext.SIPUsername) || !slices.Contains(names, ph.GuestUsername) {
		t.Fatalf("logged in: %v %v", names, err)
	}
	if macs, err := d.UserPhones("acme", ext.UserID); err != nil || !slices.Contains(macs, ph.MAC) {
		t.Fatalf("user phones: %v %v", macs, err)
	}
}

// TestFlexBadCodesSameAnswer: a login code with letters or overlong digit strings is
// refused with the same words as a wrong PIN (issue 5, bad input), from a guest account
// and from a user's line alike, and binds nothing.
func TestFlexBadCodesSameAnswer(t *testing.T) {
	t.Parallel()
	e := flexEnv(t)
	ph, guest := flexGuest(t, e, "001565aabbcc")
	user := newPhone(t, e, e.user, e.pass, e.domain)
	for _, code := range []string{"*55*20a*482916", "*55*201*48291x", "*55*123456789*482916",
		"*55*201*1234567890123", "*55**482916", "*55*201*"} {
		for _, p := range []*phone{guest, user} {
			if res := p.dial(code); res == nil || res.StatusCode != 403 || res.Reason != "Wrong extension or PIN" {
				t.Fatalf("%s from %s: %v", code, p.user, res)
			}
		}
	}
	if p, _ := e.st.Phone(ph.MAC); p.UserID != "" {
		t.Fatal("a bad code bound the phone")
	}
}

// TestFlexLogoutOnlyOwnLine: *56 logs a flex phone out only from the logged-in user's
// own line or the phone's guest line. Another account that registers with the phone's
// MAC in its User-Agent and +sip.instance is refused, and the session stays.
func TestFlexLogoutOnlyOwnLine(t *testing.T) {
	t.Parallel()
	e := flexEnv(t)
	err := e.st.Update(func(tx *store.Tx) error {
		_, _, err := tx.CreateUser("acme", store.NewUser{FirstName: "Bob", LastName: "C", Email: "bob@acme.example",
			Role: store.RoleUser, Extensions: []string{"202"}, PIN: "735194"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	bobExt, err := e.st.Extension("acme", "202")
	if err != nil {
		t.Fatal(err)
	}
	bobPass, err := e.st.SIPPassword(bobExt)
	if err != nil {
		t.Fatal(err)
	}
	ph, guest := flexGuest(t, e, "001565aabbcc")
	if res := guest.register(ph.GuestUsername); res.StatusCode != 200 {
		t.Fatalf("guest register: %d", res.StatusCode)
	}
	if res := guest.dial("*55*201*482916"); res.StatusCode != 603 {
		t.Fatalf("login: %d %s", res.StatusCode, res.Reason)
	}
	loggedIn := func() bool { p, _ := e.st.Phone(ph.MAC); return p.UserID != "" }

	// Bob's own phone claims the flex phone's MAC (User-Agent and +sip.instance).
	bob := newPhone(t, e, bobExt.SIPUsername, bobPass, e.domain)
	bob.ua = "Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:cc"
	if res := bob.register(bobExt.SIPUsername); res.StatusCode != 200 {
		t.Fatalf("bob register: %d", res.StatusCode)
	}
	if res := bob.dial("*56"); res == nil || res.StatusCode != 403 || res.Reason != "Only the logged-in user may log out" {
		t.Fatalf("*56 from another user's line: %v", res)
	}
	if !loggedIn() {
		t.Fatal("another user's *56 logged the phone out")
	}
	// The logged-in user's own line may.
	ann := newPhone(t, e, e.user, e.pass, e.domain)
	if res := ann.register(e.user); res.StatusCode != 200 {
		t.Fatalf("ann register: %d", res.StatusCode)
	}
	if res := ann.dial("*56"); res == nil || res.StatusCode != 603 || res.Reason != "Logged out" {
		t.Fatalf("*56 from the user's line: %v", res)
	}
	if loggedIn() {
		t.Fatal("still logged in")
	}
	// And the phone's guest line.
	if res := guest.dial("*55*201*482916"); res.StatusCode != 603 {
		t.Fatalf("login again: %d %s", res.StatusCode, res.Reason)
	}
	if res := guest.dial("*56"); res == nil || res.StatusCode != 603 {
		t.Fatalf("*56 from the guest line: %v", res)
	}
}
