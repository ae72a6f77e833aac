package admin

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/netip"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

func TestAuditRedactsSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	a := e.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{
		"first_name": "Ann", "last_name": "Smith", "email": "ann@example.com", "pin": "482913",
		"password": "ann's secret pw", "extensions": []string{"250"},
	}).json(t)
	id := a["id"].(string)
	if a["password"] != nil || a["pin"] != nil {
		t.Errorf("chosen secrets echoed back: %v", a)
	}
	gen := e.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bob", "last_name": "Jones"}).json(t)
	if len(gen["pin"].(string)) < 4 || len(gen["password"].(string)) < 16 {
		t.Fatalf("generated secrets not returned once: %v", gen)
	}
	// Shown once: reading the user again does not show them.
	again := e.must(200, tok, "GET", "/api/v1/tenants/default/users/"+gen["id"].(string), nil).json(t)
	if again["pin"] != nil || again["password"] != nil {
		t.Error("generated secrets shown again")
	}
	e.must(200, tok, "PATCH", "/api/v1/tenants/default/users/"+id, map[string]any{"pin": "771234", "first_name": "Anne"})
	e.must(200, tok, "PATCH", "/api/v1/tenants/default/users/"+id, map[string]any{"reset_password": true})
	var sipPassword string
	e.st.View(func(tx *store.Tx) error {
		x, _ := tx.Extension("default", "250")
		sipPassword, _ = e.st.SIPPassword(x)
		return nil
	})
	evs := e.auditEvents("default")
	raw, _ := json.Marshal(evs)
	for _, secret := range []string{"482913", "ann's secret pw", "771234", gen["pin"].(string), gen["password"].(string), sipPassword, "argon2id$", "hmac$", tok} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("audit log contains a secret %q", secret)
		}
	}
	var create, update *store.AuditEvent
	for i := range evs {
		ev := &evs[i]
		if ev.Action == "user.create" && ev.Subject == id {
			create = ev
		}
		if ev.Action == "user.update" && ev.Subject == id && update == nil {
			update = ev
		}
	}
	if create == nil || update == nil {
		t.Fatalf("missing events in %s", raw)
	}
	if create.ActorEmail != "admin@localhost" || create.ActorID == "" || create.Source != "127.0.0.1" || create.Time.IsZero() || create.Object != "user/"+id {
		t.Errorf("create event: %+v", create)
	}
	// The newest update is the password reset; the one before carries the name change.
	var first *store.AuditEvent
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Action == "user.update" && evs[i].Subject == id {
			first = &evs[i]
			break
		}
	}
	b, _ := json.Marshal(first)
	if !strings.Contains(string(b), `"first_name":"Ann"`) || !strings.Contains(string(b), `"first_name":"Anne"`) || !strings.Contains(string(b), `"secrets_changed":["pin"]`) {
		t.Errorf("update event lacks before/after: %s", b)
	}
	// And the audit list route shows them to reports.read holders.
	page := e.must(200, tok, "GET", "/api/v1/tenants/default/audit?limit=2", nil).json(t)
	if len(page["items"].([]any)) != 2 || page["next_cursor"] == "" {
		t.Errorf("audit page: %v", page)
	}
	next := e.must(200, tok, "GET", "/api/v1/tenants/default/audit?limit=2&cursor="+page["next_cursor"].(string), nil).json(t)
	if next["items"].([]any)[0].(map[string]any)["id"] == page["items"].([]any)[0].(map[string]any)["id"] {
		t.Error("cursor did not advance")
	}
	// A cursor carrying a byte the store bounds its ranges with is refused, as are
	// slashes and NULs (percent-encoded: the bytes themselves).
	for _, bad := range []string{"%FF", "a%FFb", "a%2Fb", "%00"} {
		if a := e.do(tok, "GET", "/api/v1/tenants/default/audit?cursor="+bad, nil); a.status != 400 || a.errCode() != "invalid" {
			t.Errorf("cursor %s: %d %s", bad, a.status, a.body)
		}
	}
}

func TestForwardedForFromTrustedProxyOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} })
	tok := e.adminToken()
	a := e.do(tok, "POST", "/api/v1/tenants/default/departments", map[string]string{"name": "Via proxy"}, "X-Forwarded-For", "198.51.100.7, 203.0.113.9")
	if a.status != 201 {
		t.Fatal(a.status)
	}
	if src := e.auditEvents("default")[0].Source; src != "203.0.113.9" {
		t.Errorf("source %q, want the client behind the proxy", src)
	}
	e2 := newEnv(t)
	tok2 := e2.adminToken()
	e2.do(tok2, "POST", "/api/v1/tenants/default/departments", map[string]string{"name": "Direct"}, "X-Forwarded-For", "203.0.113.9")
	if src := e2.auditEvents("default")[0].Source; src != "127.0.0.1" {
		t.Errorf("untrusted X-Forwarded-For believed: %q", src)
	}
}

func TestViewAs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tenant("acme")
	d := e.dept("acme", "Sales")
	sadm := e.user("acme", store.RoleSystemAdmin, "", func(in *store.NewUser) { in.Email = "sa@acme.test" })
	owner := e.user("acme", store.RoleOwner, d)
	stok := e.session(sadm)
	a := e.must(201, stok, "POST", "/api/v1/auth/view-as", map[string]string{"tenant": "acme", "user_id": owner.ID}).json(t)
	vtok := a["token"].(string)
	me := e.must(200, vtok, "GET", "/api/v1/me", nil).json(t)
	if me["id"] != owner.ID || me["view_as_by"].(map[string]any)["id"] != sadm.ID {
		t.Fatalf("view-as me: %v", me)
	}
	// Never above the actor: the owner's users.promote and calls.listen are not in it.
	var perms []string
	for _, p := range me["permissions"].([]any) {
		perms = append(perms, p.(map[string]any)["name"].(string))
	}
	for _, p := range []string{"users.promote", "calls.listen", "recordings.read"} {
		if strings.Contains(strings.Join(perms, ","), p) {
			t.Errorf("view-as session holds %s, which the actor lacks", p)
		}
	}
	target := e.user("acme", store.RoleUser, d)
	e.must(403, vtok, "PATCH", "/api/v1/tenants/acme/users/"+target.ID, map[string]string{"role": "receptionist"})
	// It acts as the owner, within the owner's department scope.
	e.must(200, vtok, "PATCH", "/api/v1/tenants/acme/users/"+target.ID, map[string]string{"first_name": "Seen"})
	// A view-as session cannot start another.
	if a := e.do(vtok, "POST", "/api/v1/auth/view-as", map[string]string{"tenant": "acme", "user_id": target.ID}); a.status != 403 {
		t.Errorf("view-as from view-as: %d", a.status)
	}
	// Every request is audited with both identities, and the target sees it.
	var sawUpdate, sawRead bool
	for _, ev := range e.auditEvents("acme") {
		if ev.ActorID == sadm.ID && ev.ViewAs == owner.ID {
			sawUpdate = sawUpdate || ev.Action == "user.update"
			sawRead = sawRead || (ev.Action == "view_as.request" && ev.Object == "GET /api/v1/me")
		}
	}
	if !sawUpdate || !sawRead {
		t.Errorf("view-as audit: update %v read %v", sawUpdate, sawRead)
	}
	mine := e.must(200, e.session(owner), "GET", "/api/v1/me/audit", nil).json(t)
	if len(mine["items"].([]any)) < 3 {
		t.Errorf("target's own audit shows %d events", len(mine["items"].([]any)))
	}
	// Without users.view_as: 403. Above one's own role: 403. Losing the right ends it.
	e.must(403, e.session(owner), "POST", "/api/v1/auth/view-as", map[string]string{"tenant": "acme", "user_id": target.ID})
	sown := e.user("acme", store.RoleSystemOwner, "")
	e.must(403, stok, "POST", "/api/v1/auth/view-as", map[string]string{"tenant": "acme", "user_id": sown.ID})
	e.must(200, e.session(sown), "PATCH", "/api/v1/tenants/acme/users/"+sadm.ID, map[string]string{"role": "owner", "department_id": d})
	if a := e.do(vtok, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Errorf("view-as session after the actor lost users.view_as: %d", a.status)
	}
}

func TestManagedTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.tenant("acme")
	e.tenant("other")
	inst := e.user("default", store.RoleSystemAdmin, "", func(in *store.NewUser) {
		in.ManagedTenants = []string{"acme"}
		in.ExtraPermissions = []store.Permission{store.PermCallsListen}
	})
	tok := e.session(inst)
	list := e.must(200, tok, "GET", "/api/v1/tenants", nil).json(t)
	var slugs []string
	for _, it := range list["items"].([]any) {
		slugs = append(slugs, it.(map[string]any)["slug"].(string))
	}
	if strings.Join(slugs, ",") != "acme,default" {
		t.Errorf("tenants listed: %v", slugs)
	}
	e.must(201, tok, "POST", "/api/v1/tenants/acme/users", map[string]any{"first_name": "Via", "last_name": "Installer"})
	e.must(404, tok, "GET", "/api/v1/tenants/other/users", nil)
	e.must(404, tok, "GET", "/api/v1/tenants/other", nil)
	// In the managed tenant, the role's permissions only: a system_admin cannot promote.
	u := e.user("acme", store.RoleUser, "")
	e.must(403, tok, "PATCH", "/api/v1/tenants/acme/users/"+u.ID, map[string]string{"role": "manager"})
	// View-as in a managed tenant works for an installer with users.view_as.
	e.must(201, tok, "POST", "/api/v1/auth/view-as", map[string]string{"tenant": "acme", "user_id": u.ID})
	// Tenant secrets for admins; not for a plain user.
	ten := e.must(200, tok, "GET", "/api/v1/tenants/acme", nil).json(t)
	if !strings.HasPrefix(ten["provisioning_url"].(string), "http://pbx.example.net:8080/p/") || ten["ldap_bind_dn"] != "cn=phonebook,o=acme,dc=dialtone" || ten["ldap_bind_password"] == "" {
		t.Errorf("admin tenant view: %v", ten)
	}
	plain := e.must(200, e.session(u), "GET", "/api/v1/tenants/acme", nil).json(t)
	if _, ok := plain["provisioning_token"]; ok {
		t.Error("a plain user sees the provisioning token")
	}
	// A plain user of acme cannot see acme's other side: other tenant is 404.
	e.must(404, e.session(u), "GET", "/api/v1/tenants/default/users", nil)
}

func TestPhonesAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	u := e.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Del", "last_name": "Me", "email": "del@example.com", "password": "del me please 1", "extensions": []string{"301"}, "external_numbers": []string{"+31201110000"}}).json(t)
	id := u["id"].(string)
	p := e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "00-15-65-AA-BB-CC", "user_id": id}).json(t)
	if p["mac"] != "001565aabbcc" {
		t.Errorf("mac out: %v", p["mac"])
	}
	flex := e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "0004f2000001", "flex": true}).json(t)
	guest := flex["guest"].(map[string]any)
	if guest["sip_username"] == "" || len(guest["sip_password"].(string)) < 16 {
		t.Errorf("flex guest: %v", flex)
	}
	got := e.must(200, tok, "GET", "/api/v1/tenants/default/phones/0015.65aa.bbcc", nil).json(t)
	if got["user_id"] != id {
		t.Errorf("phone: %v", got)
	}
	e.must(200, tok, "PATCH", "/api/v1/tenants/default/phones/001565aabbcc", map[string]any{"model": "T54W"})
	// Extensions: credentials for the admin, not for a colleague.
	ext := e.must(200, tok, "GET", "/api/v1/tenants/default/extensions", nil).json(t)["items"].([]any)[0].(map[string]any)
	if ext["number"] != "301" || ext["sip_password"] == nil || ext["sip_username"] == nil {
		t.Errorf("admin extension view: %v", ext)
	}
	colleague := e.session(e.user("default", store.RoleUser, ""))
	ext = e.must(200, colleague, "GET", "/api/v1/tenants/default/extensions", nil).json(t)["items"].([]any)[0].(map[string]any)
	if _, ok := ext["sip_password"]; ok {
		t.Errorf("colleague sees SIP password: %v", ext)
	}
	e.must(403, colleague, "GET", "/api/v1/tenants/default/phones", nil)
	// Services not wired: 503, not a pretend success.
	if a := e.do(tok, "POST", "/api/v1/tenants/default/phones/001565aabbcc/resync", nil); a.status != 503 {
		t.Errorf("resync without registrar: %d", a.status)
	}
	if a := e.do(tok, "GET", "/api/v1/tenants/default/registrations", nil); a.status != 503 {
		t.Errorf("registrations without registrar: %d", a.status)
	}
	// Delete removes every reference.
	utok := e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "del@example.com", "password": "del me please 1"}).json(t)["token"].(string)
	e.must(204, tok, "DELETE", "/api/v1/tenants/default/users/"+id, nil)
	e.must(404, tok, "GET", "/api/v1/tenants/default/users/"+id, nil)
	if a := e.do(utok, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Errorf("session of a deleted user: %d", a.status)
	}
	if a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "del@example.com", "password": "del me please 1"}); a.status != 401 {
		t.Errorf("login of a deleted user: %d", a.status)
	}
	got = e.must(200, tok, "GET", "/api/v1/tenants/default/phones/001565aabbcc", nil).json(t)
	if _, ok := got["user_id"]; ok {
		t.Errorf("phone still assigned: %v", got)
	}
	e.st.View(func(tx *store.Tx) error {
		if _, err := tx.Extension("default", "301"); err == nil {
			t.Error("extension survived")
		}
		if _, err := tx.ExternalNumber("default", "+31201110000"); err == nil {
			t.Error("external number survived")
		}
		return nil
	})
	// The number is free again.
	e.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "New", "last_name": "Holder", "extensions": []string{"301"}})
	e.must(204, tok, "DELETE", "/api/v1/tenants/default/phones/001565aabbcc", nil)
	e.must(404, tok, "GET", "/api/v1/tenants/default/phones/001565aabbcc", nil)
}

func TestDepartmentDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	sales := e.must(201, tok, "POST", "/api/v1/tenants/default/departments", map[string]string{"name": "Sales", "language": "nl"}).json(t)["id"].(string)
	ops := e.must(201, tok, "POST", "/api/v1/tenants/default/departments", map[string]string{"name": "Ops"}).json(t)["id"].(string)
	u := e.user("default", store.RoleUser, sales)
	if a := e.do(tok, "DELETE", "/api/v1/tenants/default/departments/"+sales, nil); a.status != 409 || a.errField() != "move_members_to" {
		t.Fatalf("delete with members: %d %s", a.status, a.body)
	}
	e.must(204, tok, "DELETE", "/api/v1/tenants/default/departments/"+sales+"?move_members_to="+ops, nil)
	if got := e.must(200, tok, "GET", "/api/v1/tenants/default/users/"+u.ID, nil).json(t); got["department_id"] != ops {
		t.Errorf("member not moved: %v", got["department_id"])
	}
	e.must(204, tok, "DELETE", "/api/v1/tenants/default/departments/"+ops+"?move_members_to=-", nil)
	e.must(404, tok, "GET", "/api/v1/tenants/default/departments/"+ops, nil)
}

func TestSelfService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.user("default", store.RoleUser, "", func(in *store.NewUser) { in.Email, in.Password = "me@example.com", "my old password" })
	tok := e.session(u)
	if a := e.do(tok, "PATCH", "/api/v1/me", map[string]string{"password": "my new password"}); a.status != 400 || a.errField() != "old_password" {
		t.Errorf("no old password: %d %s", a.status, a.body)
	}
	if a := e.do(tok, "PATCH", "/api/v1/me", map[string]string{"password": "my new password", "old_password": "wrong one!!"}); a.status != 403 {
		t.Errorf("wrong old password: %d", a.status)
	}
	e.must(200, tok, "PATCH", "/api/v1/me", map[string]string{"password": "my new password", "old_password": "my old password", "pin": "987613", "language": "Dutch"})
	e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "me@example.com", "password": "my new password"})
	got, _ := e.st.User("default", u.ID)
	if got.Language != "nl" || !e.st.Secrets().CheckPIN(got.PINOwner(), "987613", got.PINHash) {
		t.Errorf("self-service not applied: %+v", got)
	}
	// Beyond self-service: refused.
	if a := e.do(tok, "PATCH", "/api/v1/me", map[string]string{"email": "other@example.com"}); a.status != 403 {
		t.Errorf("user changes own email: %d", a.status)
	}
	if a := e.do(tok, "PATCH", "/api/v1/me", map[string]any{"extra_permissions": []string{"reports.read"}}); a.status != 403 {
		t.Errorf("user grants self: %d", a.status)
	}
	// Photo: PNG in, JPEG of at most 256 px out; garbage refused; removed with the user.
	img := image.NewRGBA(image.Rect(0, 0, 600, 300))
	for x := 0; x < 600; x++ {
		img.Set(x, x%300, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	e.must(204, tok, "PUT", "/api/v1/tenants/default/users/"+u.ID+"/photo", buf.Bytes())
	a := e.must(200, tok, "GET", "/api/v1/tenants/default/users/"+u.ID+"/photo", nil)
	dec, err := jpeg.Decode(bytes.NewReader(a.body))
	if err != nil || dec.Bounds().Dx() != 256 || dec.Bounds().Dy() != 128 {
		t.Fatalf("photo out: %v %v", err, dec)
	}
	if a := e.do(tok, "PUT", "/api/v1/tenants/default/users/"+u.ID+"/photo", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)); a.status != 400 || a.errField() != "photo" {
		t.Errorf("broken image: %d %s", a.status, a.body)
	}
	other := e.user("default", store.RoleUser, "")
	if a := e.do(tok, "PUT", "/api/v1/tenants/default/users/"+other.ID+"/photo", buf.Bytes()); a.status != 403 {
		t.Errorf("photo of another user: %d", a.status)
	}
	e.must(204, e.adminToken(), "DELETE", "/api/v1/tenants/default/users/"+u.ID, nil)
	if _, err := e.st.Photo("default", u.ID); err == nil {
		t.Error("photo survived its user")
	}
}
