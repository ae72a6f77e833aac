package admin

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

func TestProvisioningTokenRotateAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	path := "/api/v1/tenants/default/provisioning-token/rotate"
	old := e.must(200, tok, "GET", "/api/v1/tenants/default", nil).json(t)["provisioning_token"].(string)
	for _, bad := range []string{"soon", "-1h", "2200h"} {
		if a := e.do(tok, "POST", path, map[string]string{"grace": bad}); a.status/100 != 4 || a.errField() != "grace" {
			t.Fatalf("grace %q: %d %s", bad, a.status, a.body)
		}
	}
	if _, err := e.st.TenantByToken(old); err != nil {
		t.Fatal("a refused rotation changed the token")
	}
	v := e.must(200, tok, "POST", path, map[string]string{"grace": "24h"}).json(t)
	fresh := v["provisioning_token"].(string)
	exp, _ := time.Parse(time.RFC3339Nano, v["previous_token_expires"].(string))
	if fresh == old || exp.Sub(e.clock.Now()) < 23*time.Hour || exp.Sub(e.clock.Now()) > 25*time.Hour {
		t.Fatalf("rotation answer: %v", v)
	}
	for _, k := range []string{old, fresh} {
		if tn, err := e.st.TenantByToken(k); err != nil || tn.Slug != "default" {
			t.Fatalf("within the grace %s: %v", k, err)
		}
	}
	e.clock.Advance(25 * time.Hour)
	if _, err := e.st.TenantByToken(old); err == nil {
		t.Fatal("old token still found after its grace")
	}
	if _, err := e.st.TenantByToken(fresh); err != nil {
		t.Fatal(err)
	}
	// grace 0: refused at once.
	tok = e.adminToken() // the session ended with the day
	again := e.must(200, tok, "POST", path, map[string]string{"grace": "0"}).json(t)
	if _, err := e.st.TenantByToken(fresh); err == nil || again["previous_token_expires"] != nil {
		t.Fatalf("grace 0 kept the old token: %v", again)
	}
	u := e.user("default", store.RoleUser, "")
	if a := e.do(e.session(u), "POST", path, map[string]string{"grace": "1h"}); a.status != 403 {
		t.Fatalf("rotation by a user: %d", a.status)
	}
}

func TestTenantProvisioningSettingsAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	v := e.must(200, tok, "GET", "/api/v1/tenants/default", nil).json(t)
	if v["provisioning_auth"] != "token" || v["tftp_bare_names"] != false || v["phonebook_mobile"] != false {
		t.Fatalf("defaults: %v %v %v", v["provisioning_auth"], v["tftp_bare_names"], v["phonebook_mobile"])
	}
	v = e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"provisioning_auth": "digest",
		"tftp_bare_names": true, "phonebook_mobile": true}).json(t)
	if v["provisioning_auth"] != "digest" || v["tftp_bare_names"] != true || v["phonebook_mobile"] != true {
		t.Fatalf("after PATCH: %v", v)
	}
	if a := e.do(tok, "PATCH", "/api/v1/tenants/default", map[string]any{"provisioning_auth": "basic"}); a.status != 400 || a.errField() != "provisioning_auth" {
		t.Fatalf("provisioning_auth basic: %d %s", a.status, a.body)
	}
	e.must(201, tok, "POST", "/api/v1/tenants", map[string]any{"slug": "acme"})
	if a := e.do(tok, "PATCH", "/api/v1/tenants/acme", map[string]any{"tftp_bare_names": true}); a.status/100 != 4 || a.errField() != "tftp_bare_names" {
		t.Fatalf("tftp_bare_names on acme: %d %s", a.status, a.body)
	}
}

func TestPhoneCredentialsAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	base := "/api/v1/tenants/default/phones"
	created := map[string]map[string]any{}
	for _, mac := range []string{"805ec0000001", "805ec0000002"} {
		created[mac] = e.must(201, tok, "POST", base, map[string]any{"mac": mac}).json(t)
	}
	a, b := created["805ec0000001"], created["805ec0000002"]
	ca, _ := a["provisioning_credentials"].(map[string]any)
	if ca == nil || ca["username"] != "805ec0000001" || len(ca["password"].(string)) < 16 {
		t.Fatalf("create answer: %v", a)
	}
	if a["admin_password"] == nil || a["admin_password"] == "" || a["admin_password"] == b["admin_password"] {
		t.Fatalf("admin passwords not per phone: %v / %v", a["admin_password"], b["admin_password"])
	}
	got := e.must(200, tok, "GET", base+"/805ec0000001", nil).json(t)
	if got["admin_password"] != a["admin_password"] || got["provisioning_credentials"] != nil {
		t.Fatalf("GET: admin password %v, credentials %v (shown once)", got["admin_password"], got["provisioning_credentials"])
	}
	for _, ev := range e.auditEvents("default") {
		after, _ := json.Marshal(ev.After)
		if ev.Action == "phone.create" && (strings.Contains(string(after), ca["password"].(string)) || strings.Contains(string(after), a["admin_password"].(string))) {
			t.Fatalf("a secret in the audit log: %s", after)
		}
	}
	r := e.must(200, tok, "POST", base+"/805ec0000001/provisioning-credentials", nil).json(t)
	cr := r["provisioning_credentials"].(map[string]any)
	if cr["username"] != "805ec0000001" || cr["password"] == ca["password"] {
		t.Fatalf("rotation answer: %v", cr)
	}
	ph, _ := e.st.Phone("805ec0000001")
	if cur, _, _ := e.st.ProvisioningPasswords(ph); cur != cr["password"] {
		t.Fatal("the rotated password is not the stored one")
	}
	u := e.user("default", store.RoleUser, "")
	if a := e.do(e.session(u), "POST", base+"/805ec0000001/provisioning-credentials", nil); a.status != 403 {
		t.Fatalf("rotation by a user: %d", a.status)
	}
}
