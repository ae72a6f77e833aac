package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// flexPhone is a flex phone made through the API whose guest line dials codes over SIP UDP.
type flexPhone struct {
	t                 *testing.T
	cli               *sipgo.Client
	addr, domain      string
	user, pass, label string
}

// newFlexPhone creates flex phone mac through the API and reads its guest line from the
// config the phone would fetch.
func (e *e2e) newFlexPhone(mac string) *flexPhone {
	e.t.Helper()
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": mac, "model": "T46U", "flex": true}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
		SIPDomain         string `json:"sip_domain"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	ua := "Yealink SIP-T46U 108.86.0.20 " + mac
	keys := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/"+mac+".cfg", ua))
	if keys["account.1.auth_name"] == "" || keys["account.1.password"] == "" {
		e.t.Fatalf("no guest line in the config of %s: %v", mac, keys)
	}
	sua, err := sipgo.NewUA(sipgo.WithUserAgent(ua))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { sua.Close() })
	cli, err := sipgo.NewClient(sua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		e.t.Fatal(err)
	}
	return &flexPhone{t: e.t.(*testing.T), cli: cli, addr: e.m.Addrs["sip"], domain: tenant.SIPDomain,
		user: keys["account.1.auth_name"], pass: keys["account.1.password"], label: mac}
}

// dial sends INVITE sip:{code}@domain over UDP, answers the 407 and returns the final
// answer as "403 Wrong extension or PIN".
func (p *flexPhone) dial(code string) string {
	p.t.Helper()
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: code, Host: p.domain})
	req.SetDestination(p.addr)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: code, Host: p.domain}})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{User: p.user, Host: p.domain}, Params: sip.HeaderParams{{K: "tag", V: "pin"}}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: p.user, Host: "127.0.0.1", Port: 5099}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		p.t.Fatalf("%s dials %s: %v", p.label, code, err)
	}
	if res.StatusCode == 407 {
		if res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.user, Password: p.pass}); err != nil {
			p.t.Fatalf("%s dials %s: %v", p.label, code, err)
		}
	}
	return fmt.Sprintf("%d %s", res.StatusCode, res.Reason)
}

const (
	wrongPIN = "403 Wrong extension or PIN"
	locked   = "403 Locked, try later"
)

// guessWrong dials n wrong PINs for ext, each answered as a wrong PIN.
func (p *flexPhone) guessWrong(ext string, n int) {
	p.t.Helper()
	for i := 0; i < n; i++ {
		if got := p.dial("*55*" + ext + "*" + fmt.Sprint(700000+i*13)); got != wrongPIN {
			p.t.Fatalf("%s guess %d for %s: %q", p.label, i+1, ext, got)
		}
	}
}

// auditActions lists the actions of the tenant's audit log, oldest first.
func (e *e2e) auditActions(prefix string) []string {
	e.t.Helper()
	var page struct {
		Items []struct {
			Action string         `json:"action"`
			After  map[string]any `json:"after"`
		}
	}
	e.call("GET", "/api/v1/tenants/default/audit?limit=500", nil, 200, &page)
	var out []string
	for i := len(page.Items) - 1; i >= 0; i-- {
		if a := page.Items[i].Action; strings.HasPrefix(a, prefix) {
			if l, ok := page.Items[i].After["locked"].(string); ok {
				a += ":" + l
			}
			out = append(out, a)
		}
	}
	return out
}

// TestFlexPINLockPerPhoneOverSIP: a hallway phone dialling wrong PINs for a colleague's
// extension locks itself, not the colleague: the owner logs in at their own phone with
// their PIN (issue 12 point 8; before, five wrong codes locked the extension everywhere).
// Wrong PINs from several phones lock the extension; Anna's password login to the API
// lifts that lock, and so does an admin's DELETE …/pin-lock. Locks and unlocks are
// audited, single guesses are not.
func TestFlexPINLockPerPhoneOverSIP(t *testing.T) {
	e := startMain(t)
	var anna struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "de Jong",
		"email": "anna@pin.test", "extensions": []string{"201"}, "pin": "482916", "password": "anna's own password"}, 201, &anna)
	own := e.newFlexPhone("805ec0000010")
	hall := []*flexPhone{e.newFlexPhone("805ec0000011"), e.newFlexPhone("805ec0000012"),
		e.newFlexPhone("805ec0000013"), e.newFlexPhone("805ec0000014")}

	hall[0].guessWrong("201", 5)
	if got := hall[0].dial("*55*201*482916"); got != locked {
		t.Fatalf("the guessing phone after 5 wrong PINs: %q, want locked", got)
	}
	if got := own.dial("*55*201*482916"); got != "603 Logged in 201" {
		t.Fatalf("Anna at her own phone after a colleague's 5 wrong PINs: %q", got)
	}
	if got := hall[0].dial("*55*999*482916"); got != locked {
		t.Fatalf("the guessing phone, another extension: %q, want locked", got)
	}

	// Ten wrong PINs from two phones lock the extension, at every phone.
	hall[1].guessWrong("201", 5)
	hall[2].guessWrong("201", 5)
	if got := own.dial("*55*201*482916"); got != locked {
		t.Fatalf("after 10 wrong PINs from two phones: %q, want locked", got)
	}
	// Anna's password login lifts it.
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "anna@pin.test", "password": "anna's own password"}, 200, nil)
	if got := own.dial("*55*201*482916"); got != "603 Logged in 201" {
		t.Fatalf("after Anna's password login: %q", got)
	}

	// Locked again (the first phones are still locked themselves: two fresh ones and the
	// API from this address); an admin clears it.
	hall[3].guessWrong("201", 5)
	for i := 0; i < 5; i++ {
		e.call("POST", "/api/v1/tenants/default/phones/805ec0000010/login", map[string]string{"extension": "201", "pin": fmt.Sprint(710000 + i*7)}, 403, nil)
	}
	e.call("POST", "/api/v1/tenants/default/phones/805ec0000010/login", map[string]string{"extension": "201", "pin": "482916"}, 429, nil)
	if got := own.dial("*55*201*482916"); got != locked {
		t.Fatalf("after 10 more wrong PINs: %q, want locked", got)
	}
	var cleared struct{ Unlocked []string }
	e.call("DELETE", "/api/v1/tenants/default/users/"+anna.ID+"/pin-lock", nil, 200, &cleared)
	if !slices.Equal(cleared.Unlocked, []string{"201"}) {
		t.Errorf("cleared %v, want [201]", cleared.Unlocked)
	}
	if got := own.dial("*55*201*482916"); got != "603 Logged in 201" {
		t.Fatalf("after the admin cleared the lock: %q", got)
	}
	e.call("DELETE", "/api/v1/tenants/default/users/"+anna.ID+"/pin-lock", nil, 200, &cleared)
	if len(cleared.Unlocked) != 0 {
		t.Errorf("second clear: %v", cleared.Unlocked)
	}

	want := []string{"flex.locked:source", "flex.locked:source", "flex.locked:source", "flex.locked:extension",
		"flex.unlocked", "flex.locked:source", "flex.locked:source", "flex.locked:extension", "flex.unlocked"}
	if got := e.auditActions("flex.locked"); len(got) != 7 {
		t.Errorf("lock rows: %v", got)
	}
	var got []string
	for _, a := range e.auditActions("flex.") {
		if a != "flex.login" && a != "flex.logout" {
			got = append(got, a)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit:\n got %v\nwant %v", got, want)
	}
}

// TestWeakPINsRefusedOverAPI: the tenant's PIN policy holds wherever a PIN is set over the
// API (issue 12 point 8: any 4 digits were taken), the error names the field "pin", a
// generated PIN has the policy's length, and a PIN set before a stricter policy still
// logs in.
func TestWeakPINsRefusedOverAPI(t *testing.T) {
	e := startMain(t)
	type problem struct {
		Error struct{ Field, Message string }
	}
	refused := func(method, path string, body any, field string) {
		t.Helper()
		var p problem
		e.call(method, path, body, 400, &p)
		if p.Error.Field != field {
			t.Errorf("%s %s %v: field %q (%s), want %q", method, path, body, p.Error.Field, p.Error.Message, field)
		}
	}
	users := "/api/v1/tenants/default/users"
	for _, pin := range []string{"123456", "654321", "000000", "121212", "4829", "48291", "2468"} {
		refused("POST", users, map[string]any{"first_name": "A", "last_name": "B", "pin": pin}, "pin")
	}
	var anna struct {
		ID  string
		PIN string
	}
	e.call("POST", users, map[string]any{"first_name": "Anna", "last_name": "de Jong", "email": "anna@pin.test",
		"extensions": []string{"201"}, "pin": "482916", "password": "anna's own password"}, 201, &anna)
	refused("PATCH", users+"/"+anna.ID, map[string]any{"pin": "999999"}, "pin")
	refused("PATCH", users+"/"+anna.ID, map[string]any{"pin": "201201"}, "pin")

	// Anna herself.
	var login struct{ Token string }
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "anna@pin.test", "password": "anna's own password"}, 200, &login)
	admin := e.token
	e.token = login.Token
	refused("PATCH", "/api/v1/me", map[string]any{"pin": "789012"}, "pin")
	e.call("PATCH", "/api/v1/me", map[string]any{"pin": "735104"}, 200, nil)
	e.token = admin

	// The tenant's policy: range-checked, shown, and followed by generated PINs.
	tenant := "/api/v1/tenants/default"
	refused("PATCH", tenant, map[string]any{"pin_min_length": 3}, "pin_min_length")
	refused("PATCH", tenant, map[string]any{"pin_min_length": 13}, "pin_min_length")
	refused("PATCH", tenant, map[string]any{"audit_retention_days": 0}, "audit_retention_days")
	var shown struct {
		PINMinLength       int `json:"pin_min_length"`
		AuditRetentionDays int `json:"audit_retention_days"`
	}
	e.call("GET", tenant, nil, 200, &shown)
	if shown.PINMinLength != 6 || shown.AuditRetentionDays != 400 {
		t.Errorf("defaults shown: %+v", shown)
	}
	e.call("PATCH", tenant, map[string]any{"pin_min_length": 8, "audit_retention_days": 90}, 200, &shown)
	if shown.PINMinLength != 8 || shown.AuditRetentionDays != 90 {
		t.Errorf("after PATCH: %+v", shown)
	}
	refused("POST", users, map[string]any{"first_name": "C", "last_name": "D", "pin": "4829163"}, "pin")
	var gen struct{ ID, PIN string }
	e.call("POST", users, map[string]any{"first_name": "C", "last_name": "D"}, 201, &gen)
	if len(gen.PIN) != 8 {
		t.Errorf("generated PIN of %d digits under an 8-digit policy", len(gen.PIN))
	}
	e.call("PATCH", users+"/"+gen.ID, map[string]any{"reset_pin": true}, 200, &gen)
	if len(gen.PIN) != 8 {
		t.Errorf("reset PIN of %d digits under an 8-digit policy", len(gen.PIN))
	}
	// Anna's 6-digit PIN, set before, still logs her in.
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000020", "model": "T46U", "flex": true}, 201, nil)
	e.call("POST", "/api/v1/tenants/default/phones/805ec0000020/login", map[string]string{"extension": "201", "pin": "735104"}, 200, nil)
}
