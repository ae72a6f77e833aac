package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// TestUpstreamAPI: an upstream is set, shown without its password (in answers and the
// audit log), kept when a PUT leaves the password out, checked, and removed; only
// tenant.settings reaches it.
func TestUpstreamAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	path := "/api/v1/tenants/default/upstream"
	const secret = "pr0vider-Secret-77"

	e.must(404, tok, "GET", path, nil)
	if a := e.do(tok, "PUT", path, map[string]any{"mode": "register", "host": "sip.provider.example", "username": "31201110000"}); a.status != 400 || a.errField() != "username" {
		t.Fatalf("register without password: %d %s", a.status, a.body)
	}
	for field, body := range map[string]map[string]any{
		"mode":      {"mode": "peer", "host": "sip.provider.example"},
		"host":      {"mode": "ip", "host": "not a host"},
		"transport": {"mode": "ip", "host": "192.0.2.10", "transport": "sctp"},
		"trusted":   {"mode": "ip", "host": "192.0.2.10", "trusted": []string{"0.0.0.0/0"}},
		"expiry":    {"mode": "register", "host": "sip.provider.example", "username": "u", "password": "p", "expiry": 5},
	} {
		if a := e.do(tok, "PUT", path, body); a.status != 400 || a.errField() != field {
			t.Errorf("%s: %d %s", field, a.status, a.body)
		}
	}
	a := e.must(200, tok, "PUT", path, map[string]any{"mode": "register", "host": "SIP.Provider.example", "transport": "tcp",
		"username": "31201110000", "password": secret})
	v := a.json(t)
	if v["host"] != "sip.provider.example" || v["port"] != float64(5060) || v["password_set"] != true || v["expiry"] != float64(3600) {
		t.Fatalf("saved: %s", a.body)
	}
	if strings.Contains(string(a.body), secret) {
		t.Fatal("the password is in the answer")
	}
	// A PUT without password keeps it.
	e.must(200, tok, "PUT", path, map[string]any{"mode": "register", "host": "sip.provider.example", "transport": "tls",
		"username": "31201110000", "expiry": 600})
	g := e.must(200, tok, "GET", path, nil)
	if strings.Contains(string(g.body), secret) || g.json(t)["port"] != float64(5061) || g.json(t)["password_set"] != true {
		t.Fatalf("GET: %s", g.body)
	}
	u, err := e.st.Upstream("default")
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := e.st.OpenSecret(u.Password); err != nil || pw != secret || u.Password == secret {
		t.Fatalf("stored password: sealed %v, opens to %q (%v)", u.Password != secret, pw, err)
	}
	for _, ev := range e.auditEvents("default") {
		if b, _ := json.Marshal(ev); strings.Contains(string(b), secret) {
			t.Fatalf("the password is in the audit log: %s", b)
		}
	}
	// Clearing the password of a registering upstream is refused.
	if a := e.do(tok, "PUT", path, map[string]any{"mode": "register", "host": "sip.provider.example", "username": "31201110000", "password": ""}); a.status != 400 {
		t.Fatalf("cleared password: %d %s", a.status, a.body)
	}

	// ip mode: trusted prefixes of two tenants never overlap.
	e.tenant("other")
	otherAdmin := e.session(e.user("other", store.RoleSystemAdmin, ""))
	e.must(200, otherAdmin, "PUT", "/api/v1/tenants/other/upstream", map[string]any{"mode": "ip", "host": "192.0.2.10", "trusted": []string{"192.0.2.0/28"}})
	if a := e.do(tok, "PUT", path, map[string]any{"mode": "ip", "host": "192.0.2.11", "trusted": []string{"192.0.2.11"}}); a.status != 409 || a.errField() != "trusted" {
		t.Fatalf("overlap: %d %s", a.status, a.body)
	}

	// Someone without tenant.settings.
	mgr := e.session(e.user("default", store.RoleOwner, ""))
	e.must(403, mgr, "GET", path, nil)
	e.must(403, mgr, "PUT", path, map[string]any{"mode": "ip", "host": "192.0.2.99"})
	e.must(403, mgr, "DELETE", path, nil)

	e.must(204, tok, "DELETE", path, nil)
	e.must(404, tok, "GET", path, nil)
	e.must(404, tok, "DELETE", path, nil)
}

// TestCallRoutingSettings: the tenant's call routing settings are patched, normalised
// and checked.
func TestCallRoutingSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	v := e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"main_number": "+31 20 111 0000",
		"allowed_country_codes": []string{"+49", "32"}, "daily_outside_calls": 50}).json(t)
	if v["main_number"] != "+31201110000" || v["daily_outside_calls"] != float64(50) {
		t.Fatalf("patched: %v", v)
	}
	if cc, _ := v["allowed_country_codes"].([]any); len(cc) != 2 || cc[0] != "49" {
		t.Fatalf("allowed_country_codes: %v", v["allowed_country_codes"])
	}
	for field, body := range map[string]map[string]any{
		"main_number":         {"main_number": "0201110000"},
		"country_code":        {"country_code": "49"}, // not the main number's
		"daily_outside_calls": {"daily_outside_calls": -3},
		"blocked_prefixes":    {"blocked_prefixes": []string{"+31-906"}},
	} {
		if a := e.do(tok, "PATCH", "/api/v1/tenants/default", body); a.status != 400 || a.errField() != field {
			t.Errorf("%s: %d %s", field, a.status, a.body)
		}
	}
	d := e.dept("default", "Floor 2")
	if a := e.do(tok, "PATCH", "/api/v1/tenants/default/departments/"+d, map[string]any{"emergency_caller_id": "112"}); a.status != 400 || a.errField() != "emergency_caller_id" {
		t.Errorf("department emergency_caller_id: %d %s", a.status, a.body)
	}
	if v := e.must(200, tok, "PATCH", "/api/v1/tenants/default/departments/"+d, map[string]any{"emergency_caller_id": "+31201110222"}).json(t); v["emergency_caller_id"] != "+31201110222" {
		t.Errorf("department: %v", v)
	}
}
