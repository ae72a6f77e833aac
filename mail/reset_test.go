package mail_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dialtone/dialtone/mail"
)

// TestResetMailedAsLink (issue 7 point 7): an admin resets a user's password with
// {"mail": true}; the answer holds no password, the old password and sessions are dead at
// once, and the mail as the SMTP server received it carries the login name and a one-time
// link (kind "reset") that sets a new password once, and is gone after 72 hours.
func TestResetMailedAsLink(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{starttls: true})
	e := newEnv(t, mail.Config{SMTP: "smtp://" + srv.addr, TLS: &tls.Config{RootCAs: srv.clients}})
	const oldPW = "rosa's first password"
	u := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Rosa", "last_name": "Reset",
		"email": "rosa@example.com", "password": oldPW, "extensions": []string{"701"}})
	id := u["id"].(string)
	parse(t, srv.wait(t)).token(t) // the welcome mail
	rosa := e.call(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "rosa@example.com", "password": oldPW})["token"].(string)

	start := time.Now()
	a := e.call(202, e.token, "POST", "/api/v1/tenants/default/users/"+id+"/reset-password", map[string]bool{"mail": true})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the API waited %v for the mail", d)
	}
	if a["queued"] != true || a["to"] != "rosa@example.com" || a["password"] != nil {
		t.Errorf("answer: %v", a)
	}
	if st, _ := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "rosa@example.com", "password": oldPW}); st != 401 {
		t.Errorf("old password after the reset: %d", st)
	}
	if st, _ := e.do(rosa, "GET", "/api/v1/me", nil); st != 401 {
		t.Errorf("session from before the reset: %d", st)
	}

	got := srv.wait(t)
	if got.To != "rosa@example.com" || !got.TLS {
		t.Errorf("envelope to %s, TLS %v", got.To, got.TLS)
	}
	p := parse(t, got)
	if s := p.subject(t); s != "Choose a new password for Acme Telecom" {
		t.Errorf("subject %q", s)
	}
	for _, want := range []string{"Rosa", "rosa@example.com", "reset your password", "72 hours"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("body lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(string(got.Data), oldPW) || strings.Contains(strings.ToLower(p.body), "your new password:") {
		t.Errorf("the mail holds a password:\n%s", p.body)
	}
	token := p.token(t)
	eventually(t, "empty outbox", func() bool { return len(e.outbox()) == 0 })

	// The link sets the password, once; the audit says it was a reset link.
	const newPW = "rosa's chosen password"
	e.call(200, "", "POST", "/api/v1/auth/set-password", map[string]string{"token": token, "password": newPW})
	if st, _ := e.do("", "POST", "/api/v1/auth/set-password", map[string]string{"token": token, "password": newPW + "!"}); st != 410 {
		t.Errorf("reset link used twice: %d", st)
	}
	e.call(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "rosa@example.com", "password": newPW})
	audit := e.call(200, e.token, "GET", "/api/v1/tenants/default/audit?subject="+id, nil)
	var sawReset, sawSet bool
	for _, it := range audit["items"].([]any) {
		ev := it.(map[string]any)
		after, _ := ev["after"].(map[string]any)
		switch ev["action"] {
		case "user.reset_password":
			sawReset = after["delivery"] == "mail" && after["to"] == "rosa@example.com"
		case "user.set_password":
			sawSet = sawSet || after["link"] == "reset"
		}
	}
	if !sawReset || !sawSet {
		t.Errorf("audit: reset by mail %v, set with a reset link %v: %v", sawReset, sawSet, audit["items"])
	}

	// Late: a second reset's link, used after 72 hours, is gone.
	e.call(202, e.token, "POST", "/api/v1/tenants/default/users/"+id+"/reset-password", map[string]bool{"mail": true})
	late := parse(t, srv.wait(t)).token(t)
	e.clock.Advance(72*time.Hour + time.Minute)
	if st, _ := e.do("", "POST", "/api/v1/auth/set-password", map[string]string{"token": late, "password": newPW}); st != 410 {
		t.Errorf("reset link after 72 h: %d", st)
	}
	if logs := e.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, late) || strings.Contains(logs, newPW) {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
}

// TestResetMailDutchAndOverride: the reset mail is in the user's language (here their
// department's), and a reset.{lang}.txt in the overrides wins over the built-in one.
func TestResetMailDutchAndOverride(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{})
	over := fstest.MapFS{"reset.en.txt": {Data: []byte("Subject: Reset for {{.FirstName}} at {{.Tenant}}\n\nLogin {{.Login}}\n{{.Link}}\n")}}
	e := newEnv(t, mail.Config{SMTP: "smtp://" + srv.addr, Overrides: over})
	dept := e.call(201, e.token, "POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Verkoop", "language": "nl"})
	nl := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Joost", "last_name": "de Vries",
		"email": "joost@example.nl", "department_id": dept["id"]})
	srv.wait(t) // welcome
	e.call(202, e.token, "POST", "/api/v1/tenants/default/users/"+nl["id"].(string)+"/reset-password", map[string]bool{"mail": true})
	p := parse(t, srv.wait(t))
	if s := p.subject(t); s != "Kies een nieuw wachtwoord voor Acme Telecom" || p.hdr.Get("Content-Language") != "nl" ||
		!strings.Contains(p.body, "Je inlognaam: joost@example.nl") {
		t.Errorf("Dutch reset mail: %q\n%v\n%s", s, p.hdr, p.body)
	}
	p.token(t)

	en := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Oz", "last_name": "Custom", "email": "oz@example.com"})
	srv.wait(t) // welcome (built in: only reset.en.txt is overridden)
	e.call(202, e.token, "POST", "/api/v1/tenants/default/users/"+en["id"].(string)+"/reset-password", map[string]bool{"mail": true})
	p = parse(t, srv.wait(t))
	if p.subject(t) != "Reset for Oz at Acme Telecom" || !strings.HasPrefix(p.body, "Login oz@example.com\r\n") {
		t.Errorf("override not used: %q\n%q", p.subject(t), p.body)
	}
	p.token(t)
}

// TestResetMailWaitsWithoutSMTP: without SMTP the reset mail waits in the outbox as kind
// "reset", with no link and no password in it, and leaves with its user.
func TestResetMailWaitsWithoutSMTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Config{})
	u := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Wes", "last_name": "Waits", "email": "wes@example.com"})
	e.call(202, e.token, "POST", "/api/v1/tenants/default/users/"+u["id"].(string)+"/reset-password", map[string]bool{"mail": true})
	items := e.outbox()
	if len(items) != 2 || items[0]["kind"] != "welcome" || items[1]["kind"] != "reset" || items[1]["to"] != "wes@example.com" {
		t.Fatalf("outbox: %v", items)
	}
	if body := items[1]["body"].(string); strings.Contains(body, "token=") || !strings.Contains(body, "one-time link") {
		t.Errorf("queued reset body: %s", body)
	}
	e.call(204, e.token, "DELETE", "/api/v1/tenants/default/users/"+u["id"].(string), nil)
	if items := e.outbox(); len(items) != 0 {
		t.Errorf("outbox after delete: %v", items)
	}
}
