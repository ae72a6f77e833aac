package admin

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/mail"
	"github.com/dialtone/dialtone/store"
)

// withMailer wires the real mailer (no SMTP: mail waits in the store's outbox).
func withMailer(t *testing.T) func(*Config) {
	return func(c *Config) {
		m, err := mail.New(mail.Config{Store: c.Store})
		if err != nil {
			t.Fatal(err)
		}
		c.Welcome = m
	}
}

// mailsFor lists the kinds of mail in the outbox of slug for user id.
func (e *env) mailsFor(slug, id string) []string {
	e.t.Helper()
	var out []string
	err := e.st.View(func(tx *store.Tx) error {
		ms, err := tx.Outbox(slug, "", 1000)
		for _, m := range ms {
			if m.UserID == id {
				out = append(out, m.Kind)
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// refusedTakeover asserts a 403 whose message names why.
func refusedTakeover(t *testing.T, what string, a answer, why string) {
	t.Helper()
	if a.status != 403 || a.errCode() != "forbidden" || !strings.Contains(a.errMessage(), why) {
		t.Errorf("%s: %d %s, want 403 naming %q", what, a.status, a.body, why)
	}
}

// TestPeerSystemAdminTakeover: a system_admin cannot take over a peer system_admin who
// manages tenant beta — by reset (shown or mailed), set password, PIN, email, welcome
// link or SIP credentials — and beta stays out of reach.
func TestPeerSystemAdminTakeover(t *testing.T) {
	e := newEnv(t, withMailer(t))
	root := e.adminToken()
	e.must(201, root, "POST", "/api/v1/tenants", map[string]string{"slug": "beta", "name": "Beta"})
	const peerPW = "the peer's own password"
	peer := e.user("default", store.RoleSystemAdmin, "", func(n *store.NewUser) {
		n.Email, n.Password, n.ManagedTenants = "peer@example.com", peerPW, []string{"beta"}
	})
	attacker := e.user("default", store.RoleSystemAdmin, "")
	tok := e.session(attacker)
	e.must(404, tok, "GET", "/api/v1/tenants/beta", nil)

	base := "/api/v1/tenants/default/users/" + peer.ID
	why := "they manage tenant beta"
	refusedTakeover(t, "reset shown", e.do(tok, "POST", base+"/reset-password", map[string]bool{}), why)
	refusedTakeover(t, "reset mailed", e.do(tok, "POST", base+"/reset-password", map[string]bool{"mail": true}), why)
	refusedTakeover(t, "welcome", e.do(tok, "POST", base+"/welcome", nil), why)
	refusedTakeover(t, "sip credentials", e.do(tok, "POST", base+"/sip-credentials", nil), why)
	for _, body := range []map[string]any{
		{"password": "an attacker's choice 1"},
		{"reset_password": true},
		{"reset_pin": true},
		{"pin": "482916"},
		{"email": "attacker@example.com"},
		{"managed_tenants": []string{}},
	} {
		refusedTakeover(t, "PATCH", e.do(tok, "PATCH", base, body), why)
	}
	after, _ := e.st.User("default", peer.ID)
	if after.PasswordHash != peer.PasswordHash || after.PINHash != peer.PINHash || after.Email != peer.Email || len(after.ManagedTenants) != 1 {
		t.Error("a refused takeover changed the peer's record")
	}
	if m := e.mailsFor("default", peer.ID); len(m) != 0 {
		t.Errorf("mail queued for the peer: %v", m)
	}
	e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "peer@example.com", "password": peerPW})
	e.must(404, tok, "GET", "/api/v1/tenants/beta", nil)
	// Harmless fields of a peer stay editable.
	e.must(200, tok, "PATCH", base, map[string]string{"mobile": "+31612345678"})

	// The System Owner who manages beta keeps full power over the peer; another System
	// Owner of the tenant who does not reach beta cannot take beta this way either.
	e.must(200, root, "POST", base+"/reset-password", map[string]bool{})
	other := e.session(e.user("default", store.RoleSystemOwner, ""))
	refusedTakeover(t, "system_owner without beta", e.do(other, "POST", base+"/reset-password", nil), why)
}

// TestPeerManagerTakeover: a manager cannot take over a peer manager of their department
// who also belongs to another department; a lower-ranked user holding an extra
// permission the admin lacks is out of reach too.
func TestPeerManagerTakeover(t *testing.T) {
	e := newEnv(t, withMailer(t))
	e.tenant("acme")
	sales, ops := e.dept("acme", "Sales"), e.dept("acme", "Ops")
	mgr := e.session(e.user("acme", store.RoleManager, sales))
	peer := e.user("acme", store.RoleManager, sales, func(n *store.NewUser) {
		n.Email, n.Departments = "peer.mgr@example.com", []string{ops}
	})
	base := "/api/v1/tenants/acme/users/" + peer.ID
	why := "department " + ops
	refusedTakeover(t, "reset", e.do(mgr, "POST", base+"/reset-password", nil), why)
	refusedTakeover(t, "email", e.do(mgr, "PATCH", base, map[string]string{"email": "mine@example.com"}), why)
	refusedTakeover(t, "password", e.do(mgr, "PATCH", base, map[string]string{"password": "an attacker's choice 1"}), why)
	refusedTakeover(t, "welcome", e.do(mgr, "POST", base+"/welcome", nil), why)
	if after, _ := e.st.User("acme", peer.ID); after.PasswordHash != peer.PasswordHash || after.Email != peer.Email {
		t.Error("a refused takeover changed the peer")
	}

	// An owner of Sales, over a manager whom a System Owner gave phones.manage.
	owner := e.session(e.user("acme", store.RoleOwner, sales))
	tech := e.user("acme", store.RoleManager, sales, func(n *store.NewUser) {
		n.ExtraPermissions = []store.Permission{store.PermPhonesManage}
	})
	refusedTakeover(t, "reset of a holder of phones.manage", e.do(owner, "POST", "/api/v1/tenants/acme/users/"+tech.ID+"/reset-password", nil),
		"extra permission phones.manage")
}

// TestEmailThenMailedReset: a manager's PATCH of a peer manager's email to their own,
// followed by a mailed reset (whose link would reach the new address), is refused at
// both steps and queues nothing.
func TestEmailThenMailedReset(t *testing.T) {
	e := newEnv(t, withMailer(t))
	e.tenant("acme")
	sales, ops := e.dept("acme", "Sales"), e.dept("acme", "Ops")
	peer := e.user("acme", store.RoleManager, sales, func(n *store.NewUser) {
		n.Email, n.Departments = "peer@example.com", []string{ops}
	})
	tok := e.session(e.user("acme", store.RoleManager, sales))
	base := "/api/v1/tenants/acme/users/" + peer.ID
	why := "outside yours"
	refusedTakeover(t, "email", e.do(tok, "PATCH", base, map[string]string{"email": "attacker@example.com"}), why)
	refusedTakeover(t, "mailed reset", e.do(tok, "POST", base+"/reset-password", map[string]bool{"mail": true}), why)
	if m := e.mailsFor("acme", peer.ID); len(m) != 0 {
		t.Errorf("mail queued: %v", m)
	}
	if after, _ := e.st.User("acme", peer.ID); after.Email != "peer@example.com" || after.PasswordHash != peer.PasswordHash {
		t.Errorf("peer changed: email now %q", after.Email)
	}
}

// TestResendWelcomeAboveRank: a manager cannot resend the welcome mail (a new
// set-password link) of the owner of their department, whose first link is pending.
func TestResendWelcomeAboveRank(t *testing.T) {
	e := newEnv(t, withMailer(t))
	e.tenant("acme")
	sales := e.dept("acme", "Sales")
	boss := e.user("acme", store.RoleOwner, sales, func(n *store.NewUser) { n.Email = "boss@example.com" })
	pending := e.link(boss)
	mgr := e.session(e.user("acme", store.RoleManager, sales))
	refusedTakeover(t, "welcome of an owner", e.do(mgr, "POST", "/api/v1/tenants/acme/users/"+boss.ID+"/welcome", nil), "ranks above yours")
	if m := e.mailsFor("acme", boss.ID); len(m) != 0 {
		t.Errorf("mail queued for the owner: %v", m)
	}
	e.must(200, "", "POST", "/api/v1/auth/set-password", map[string]string{"token": pending, "password": "the owner's own choice"})
}

// TestCredentialChangesAllowed: below one's rank, and at one's rank over someone holding
// nothing extra, resets, emails and welcome links still work.
func TestCredentialChangesAllowed(t *testing.T) {
	e := newEnv(t, withMailer(t))
	e.tenant("acme")
	sales := e.dept("acme", "Sales")
	sadm := e.session(e.user("acme", store.RoleSystemAdmin, ""))
	plain := e.user("acme", store.RoleUser, sales, func(n *store.NewUser) { n.Email = "plain@example.com" })
	peer := e.user("acme", store.RoleSystemAdmin, "", func(n *store.NewUser) { n.Email = "sadm2@example.com" })
	for _, u := range []store.User{plain, peer} {
		base := "/api/v1/tenants/acme/users/" + u.ID
		pw, _ := e.must(200, sadm, "POST", base+"/reset-password", nil).json(t)["password"].(string)
		e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": u.Email, "password": pw})
		e.must(202, sadm, "POST", base+"/reset-password", map[string]bool{"mail": true})
		e.must(202, sadm, "POST", base+"/welcome", nil)
		e.must(200, sadm, "PATCH", base, map[string]any{"email": "new." + u.Email, "reset_pin": true})
	}
	mgr := e.session(e.user("acme", store.RoleManager, sales))
	mpeer := e.user("acme", store.RoleManager, sales)
	e.must(200, mgr, "POST", "/api/v1/tenants/acme/users/"+mpeer.ID+"/reset-password", nil)
	e.must(200, mgr, "PATCH", "/api/v1/tenants/acme/users/"+plain.ID, map[string]string{"password": "a manager's choice 1"})
}

// TestChangeOwnPasswordThrottled: wrong old passwords on PATCH /me count as failed logins
// of the source; past the limit the source gets 429, the right password included, and
// login is locked too.
func TestChangeOwnPasswordThrottled(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.LoginFailures = 3 })
	const pw = "my current password"
	u := e.user("default", store.RoleUser, "", func(n *store.NewUser) { n.Email, n.Password = "me@example.com", pw })
	tok := e.session(u)
	for i := range 3 {
		a := e.do(tok, "PATCH", "/api/v1/me", map[string]string{"password": "a new password 123", "old_password": "guess " + string(rune('a'+i))})
		if a.status != 403 || a.errField() != "old_password" {
			t.Fatalf("guess %d: %d %s", i, a.status, a.body)
		}
	}
	a := e.do(tok, "PATCH", "/api/v1/me", map[string]string{"password": "a new password 123", "old_password": pw})
	if a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("after 3 wrong old passwords: %d %s", a.status, a.body)
	}
	if a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "me@example.com", "password": pw}); a.status != 429 {
		t.Errorf("login after the lockout: %d", a.status)
	}
	if got, _ := e.st.User("default", u.ID); got.PasswordHash != u.PasswordHash {
		t.Error("password changed while locked out")
	}
	if n := strings.Count(e.logs.String(), "locked out after repeated failures"); n != 1 {
		t.Errorf("lockout logged %d times", n)
	}
	// Other self-service still works.
	e.must(200, tok, "PATCH", "/api/v1/me", map[string]string{"language": "nl"})
}

// pngClaiming is a PNG signature and IHDR chunk claiming w×h pixels, and no pixels.
func pngClaiming(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 17)
	copy(ihdr, "IHDR")
	binary.BigEndian.PutUint32(ihdr[4:], w)
	binary.BigEndian.PutUint32(ihdr[8:], h)
	ihdr[12], ihdr[13] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr))
	return b.Bytes()
}

// TestPhotoRightsAndPixelLimit: the right to change a photo is checked before the upload
// is decoded; a header claiming more than 4096×4096 pixels is a 422 on "photo".
func TestPhotoRightsAndPixelLimit(t *testing.T) {
	e := newEnv(t)
	root := e.adminToken()
	u := e.user("default", store.RoleUser, "")
	path := "/api/v1/tenants/default/users/" + u.ID + "/photo"
	for _, size := range [][2]uint32{{100_000, 100_000}, {5000, 10}, {10, 4097}} {
		a := e.do(root, "PUT", path, pngClaiming(size[0], size[1]))
		if a.status != 422 || a.errField() != "photo" || !strings.Contains(a.errMessage(), "4096") {
			t.Errorf("%dx%d: %d %s", size[0], size[1], a.status, a.body)
		}
	}
	// A colleague without users.manage is refused before anything is decoded.
	colleague := e.session(e.user("default", store.RoleUser, ""))
	if a := e.do(colleague, "PUT", path, pngClaiming(100_000, 100_000)); a.status != 403 {
		t.Errorf("colleague's upload: %d %s", a.status, a.body)
	}
	// Nobody changes the photo of someone ranked above them.
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)))
	sadm := e.session(e.user("default", store.RoleSystemAdmin, ""))
	owner := e.user("default", store.RoleSystemOwner, "")
	if a := e.do(sadm, "PUT", "/api/v1/tenants/default/users/"+owner.ID+"/photo", buf.Bytes()); a.status != 403 {
		t.Errorf("photo of a user above: %d %s", a.status, a.body)
	}
	e.must(204, sadm, "PUT", path, buf.Bytes())
	e.must(204, root, "PUT", path, buf.Bytes())
}

// TestViewAsPeerCredentials: a view-as session as a peer who manages another tenant
// cannot change that peer's PIN or email through PATCH /me.
func TestViewAsPeerCredentials(t *testing.T) {
	e := newEnv(t)
	root := e.adminToken()
	e.must(201, root, "POST", "/api/v1/tenants", map[string]string{"slug": "beta", "name": "Beta"})
	peer := e.user("default", store.RoleSystemAdmin, "", func(n *store.NewUser) {
		n.Email, n.ManagedTenants = "peer@example.com", []string{"beta"}
	})
	tok := e.session(e.user("default", store.RoleSystemAdmin, ""))
	as := e.must(201, tok, "POST", "/api/v1/auth/view-as", map[string]string{"user_id": peer.ID}).json(t)["token"].(string)
	refusedTakeover(t, "PIN as the peer", e.do(as, "PATCH", "/api/v1/me", map[string]string{"pin": "482916"}), "manage tenant beta")
	refusedTakeover(t, "email as the peer", e.do(as, "PATCH", "/api/v1/me", map[string]string{"email": "attacker@example.com"}), "manage tenant beta")
	if after, _ := e.st.User("default", peer.ID); after.PINHash != peer.PINHash || after.Email != peer.Email {
		t.Error("the peer changed")
	}
	e.must(200, as, "PATCH", "/api/v1/me", map[string]string{"language": "de"})
	// Viewing as a plain user, the actor may do what they could do to them directly.
	u := e.user("default", store.RoleUser, "")
	as = e.must(201, tok, "POST", "/api/v1/auth/view-as", map[string]string{"user_id": u.ID}).json(t)["token"].(string)
	e.must(200, as, "PATCH", "/api/v1/me", map[string]string{"pin": "482916"})
}
