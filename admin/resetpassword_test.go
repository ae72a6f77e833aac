package admin

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// fakeMail records what the API asks the mailer to queue (package mail's own tests send
// the mails to a real SMTP server).
type fakeMail struct {
	mu     sync.Mutex
	resets []string
	fail   error
}

func (f *fakeMail) QueueWelcome(tenant, id string) error { return nil }
func (f *fakeMail) QueueWelcomes(tenant string, ids []string) map[string]error {
	return nil
}
func (f *fakeMail) QueueReset(tenant, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.resets = append(f.resets, tenant+"/"+id)
	return nil
}

func (f *fakeMail) queued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.resets...)
}

// TestResetPasswordShownOnce: POST …/reset-password without mail answers a new password
// once; the old one stops working and the user's sessions end; audited without secrets.
func TestResetPasswordShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email, n.Password = "rita@example.com", "rita's old password" })
	old := e.session(u)
	path := "/api/v1/tenants/default/users/" + u.ID + "/reset-password"
	for _, body := range []any{nil, map[string]bool{"mail": false}} {
		a := e.must(200, tok, "POST", path, body).json(t)
		pw, _ := a["password"].(string)
		if len(pw) < 16 || a["id"] != u.ID {
			t.Fatalf("answer: %v", a)
		}
		if x := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "rita@example.com", "password": "rita's old password"}); x.status != 401 {
			t.Errorf("old password after a reset: %d", x.status)
		}
		e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "rita@example.com", "password": pw})
		if x := e.do(old, "GET", "/api/v1/me", nil); x.status != 401 {
			t.Errorf("session from before the reset: %d", x.status)
		}
		raw, _ := json.Marshal(e.auditEvents("default"))
		if strings.Contains(string(raw), pw) || !strings.Contains(string(raw), "user.reset_password") || !strings.Contains(string(raw), `"delivery":"shown"`) {
			t.Errorf("audit: %s", raw)
		}
		// Shown once: reading the user again does not show it.
		if g := e.must(200, tok, "GET", "/api/v1/tenants/default/users/"+u.ID, nil).json(t); g["password"] != nil {
			t.Error("reset password shown again")
		}
	}
	if x := e.do(tok, "POST", path, `{"mail":"yes"}`); x.status != 400 {
		t.Errorf("bad body: %d %s", x.status, x.body)
	}
	if x := e.do(tok, "POST", path, map[string]any{"mail": true}); x.status != 503 {
		t.Errorf("mail without a mailer: %d %s", x.status, x.body)
	}
}

// TestResetPasswordByMail: with {"mail":true} the answer holds no password, the mailer
// is asked for a reset mail, and the old password is dead at once.
func TestResetPasswordByMail(t *testing.T) {
	t.Parallel()
	fm := &fakeMail{}
	e := newEnv(t, func(c *Config) { c.Welcome = fm })
	tok := e.adminToken()
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email, n.Password = "sam@example.com", "sam's old password" })
	old := e.session(u)
	path := "/api/v1/tenants/default/users/" + u.ID + "/reset-password"
	a := e.must(202, tok, "POST", path, map[string]bool{"mail": true})
	ans := a.json(t)
	if ans["queued"] != true || ans["to"] != "sam@example.com" || ans["password"] != nil {
		t.Fatalf("answer: %s", a.body)
	}
	if q := fm.queued(); len(q) != 1 || q[0] != "default/"+u.ID {
		t.Errorf("reset mails asked for: %v", q)
	}
	if x := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "sam@example.com", "password": "sam's old password"}); x.status != 401 {
		t.Errorf("old password after a mailed reset: %d", x.status)
	}
	if x := e.do(old, "GET", "/api/v1/me", nil); x.status != 401 {
		t.Errorf("session from before the reset: %d", x.status)
	}
	var ev *store.AuditEvent
	evs := e.auditEvents("default")
	for i := range evs {
		if evs[i].Action == "user.reset_password" && evs[i].Subject == u.ID {
			ev = &evs[i]
			break
		}
	}
	if b, _ := json.Marshal(ev); ev == nil || !strings.Contains(string(b), `"delivery":"mail"`) || !strings.Contains(string(b), `"to":"sam@example.com"`) {
		t.Errorf("audit event: %s", b)
	}

	// Refusals change nothing and queue nothing.
	before, _ := e.st.User("default", u.ID)
	noMail := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Password = "no mail here 123" })
	if x := e.do(tok, "POST", "/api/v1/tenants/default/users/"+noMail.ID+"/reset-password", map[string]bool{"mail": true}); x.status != 409 || x.errCode() != "no_email" {
		t.Errorf("user without email: %d %s", x.status, x.body)
	}
	if got, _ := e.st.User("default", noMail.ID); got.PasswordHash != noMail.PasswordHash {
		t.Error("a refused reset changed the password")
	}
	plain := e.session(e.user("default", store.RoleUser, ""))
	if x := e.do(plain, "POST", path, map[string]bool{"mail": true}); x.status != 403 {
		t.Errorf("a plain user resets: %d", x.status)
	}
	owner := e.user("default", store.RoleSystemOwner, "", func(n *store.NewUser) { n.Email = "boss@example.com" })
	sadm := e.session(e.user("default", store.RoleSystemAdmin, ""))
	if x := e.do(sadm, "POST", "/api/v1/tenants/default/users/"+owner.ID+"/reset-password", map[string]bool{"mail": true}); x.status != 403 {
		t.Errorf("reset of a user above the caller: %d", x.status)
	}
	var me store.User
	e.st.View(func(tx *store.Tx) (err error) { me, err = tx.UserByEmail("default", "admin@localhost"); return err })
	if x := e.do(tok, "POST", "/api/v1/tenants/default/users/"+me.ID+"/reset-password", nil); x.status != 400 {
		t.Errorf("own password through reset: %d", x.status)
	}
	if x := e.do(tok, "POST", "/api/v1/tenants/default/users/nosuchuser/reset-password", map[string]bool{"mail": true}); x.status != 404 {
		t.Errorf("unknown user: %d", x.status)
	}
	if after, _ := e.st.User("default", u.ID); after.PasswordHash != before.PasswordHash || len(fm.queued()) != 1 {
		t.Errorf("refused resets changed something: queued %v", fm.queued())
	}
	// A mailer that fails is an error the admin sees.
	fm.fail = errors.New("template broken")
	if x := e.do(tok, "POST", path, map[string]bool{"mail": true}); x.status != 500 {
		t.Errorf("failing mailer: %d %s", x.status, x.body)
	}
}

// TestAdminResetsPIN: PATCH {"reset_pin": true} answers a new PIN once, and it works.
func TestAdminResetsPIN(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	u := e.user("default", store.RoleUser, "")
	a := e.must(200, tok, "PATCH", "/api/v1/tenants/default/users/"+u.ID, map[string]bool{"reset_pin": true}).json(t)
	pin, _ := a["pin"].(string)
	if !store.ValidPIN(pin) || a["password"] != nil {
		t.Fatalf("answer: %v", a)
	}
	got, _ := e.st.User("default", u.ID)
	if !e.st.Secrets().CheckPIN(got.PINOwner(), pin, got.PINHash) || got.PINHash == u.PINHash {
		t.Error("the PIN shown is not the PIN stored")
	}
	if g := e.must(200, tok, "GET", "/api/v1/tenants/default/users/"+u.ID, nil).json(t); g["pin"] != nil {
		t.Error("reset PIN shown again")
	}
	raw, _ := json.Marshal(e.auditEvents("default"))
	if strings.Contains(string(raw), `"`+pin+`"`) {
		t.Errorf("audit holds the PIN: %s", raw)
	}
}
