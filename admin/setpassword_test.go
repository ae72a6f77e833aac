package admin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

func (e *env) link(u store.User) string {
	e.t.Helper()
	var tok string
	err := e.st.Update(func(tx *store.Tx) (err error) {
		tok, _, err = tx.CreatePasswordLink(u.Tenant, u.ID, "welcome", 72*time.Hour)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

func TestSetPasswordLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email = "new.hire@example.com" })
	old := e.session(u)
	link := e.link(u)
	const pw = "a brand new password"
	path := "/api/v1/auth/set-password"

	// Bad input first: none of it spends the link.
	if a := e.do("", "POST", path, map[string]string{"token": link, "password": "short"}); a.status != 400 || a.errField() != "password" {
		t.Errorf("weak password: %d %s", a.status, a.body)
	}
	if a := e.do("", "POST", path, map[string]string{"token": "not-hex", "password": pw}); a.status != 400 || a.errField() != "token" {
		t.Errorf("malformed token: %d %s", a.status, a.body)
	}
	if a := e.do("", "POST", path, `{"token":`); a.status != 400 {
		t.Errorf("broken JSON: %d", a.status)
	}
	if a := e.do("", "POST", path, map[string]string{"token": strings.Repeat("ab", 32), "password": pw}); a.status != 410 {
		t.Errorf("unknown token: %d %s", a.status, a.body)
	}

	ans := e.must(200, "", "POST", path, map[string]string{"token": link, "password": pw}).json(t)
	if ans["email"] != "new.hire@example.com" || ans["tenant"] != "default" {
		t.Errorf("answer: %v", ans)
	}
	// Single use.
	if a := e.do("", "POST", path, map[string]string{"token": link, "password": pw + "2"}); a.status != 410 || a.errCode() != "link_gone" {
		t.Errorf("link used twice: %d %s", a.status, a.body)
	}
	// The password works (argon2id), the sessions from before are over.
	e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "new.hire@example.com", "password": pw})
	if a := e.do(old, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Errorf("session from before the new password: %d", a.status)
	}
	saved, _ := e.st.User("default", u.ID)
	if !strings.HasPrefix(saved.PasswordHash, "argon2id$") {
		t.Errorf("password hash scheme: %.10s", saved.PasswordHash)
	}
	// Audited as the user, without the password.
	var found bool
	for _, ev := range e.auditEvents("default") {
		if ev.Action == "user.set_password" && ev.Subject == u.ID && ev.ActorID == u.ID {
			found = true
			b, _ := json.Marshal(ev)
			if strings.Contains(string(b), pw) || strings.Contains(string(b), link) {
				t.Errorf("audit event holds a secret: %s", b)
			}
		}
	}
	if !found {
		t.Error("no user.set_password audit event")
	}

	// Late: 72 hours and a bit.
	late := e.link(u)
	e.clock.Advance(72*time.Hour + time.Minute)
	if a := e.do("", "POST", path, map[string]string{"token": late, "password": pw}); a.status != 410 {
		t.Errorf("expired link: %d %s", a.status, a.body)
	}
	// A newer link replaces an older one.
	first, second := e.link(u), e.link(u)
	if a := e.do("", "POST", path, map[string]string{"token": first, "password": pw}); a.status != 410 {
		t.Errorf("superseded link: %d", a.status)
	}
	e.must(200, "", "POST", path, map[string]string{"token": second, "password": pw})
	if strings.Contains(e.logs.String(), second) || strings.Contains(e.logs.String(), pw) {
		t.Error("a token or password reached the log")
	}
}

func TestSetPasswordThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.LoginFailures = 3 })
	for i := range 3 {
		if a := e.do("", "POST", "/api/v1/auth/set-password", map[string]string{"token": strings.Repeat("cd", 32), "password": "whatever it is"}); a.status != 410 {
			t.Fatalf("try %d: %d", i, a.status)
		}
	}
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email = "x@example.com" })
	if a := e.do("", "POST", "/api/v1/auth/set-password", map[string]string{"token": e.link(u), "password": "whatever it is"}); a.status != 429 {
		t.Errorf("after a flood of bad links: %d", a.status)
	}
	if n := strings.Count(e.logs.String(), "set-password locked out"); n != 1 {
		t.Errorf("lockout logged %d times", n)
	}
}

func TestResendWelcomeRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	noMail := e.user("default", store.RoleUser, "")
	if a := e.do(tok, "POST", "/api/v1/tenants/default/users/"+noMail.ID+"/welcome", nil); a.status != 409 {
		t.Errorf("user without email: %d %s", a.status, a.body)
	}
	withMail := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email = "w@example.com" })
	if a := e.do(tok, "POST", "/api/v1/tenants/default/users/"+withMail.ID+"/welcome", nil); a.status != 503 {
		t.Errorf("without mail wired: %d", a.status)
	}
	if a := e.do(tok, "POST", "/api/v1/tenants/default/users/nosuchuser/welcome", nil); a.status != 404 {
		t.Errorf("unknown user: %d", a.status)
	}
	plain := e.session(e.user("default", store.RoleUser, ""))
	if a := e.do(plain, "POST", "/api/v1/tenants/default/users/"+withMail.ID+"/welcome", nil); a.status != 403 {
		t.Errorf("a plain user resends: %d", a.status)
	}
}
