package admin

import "testing"

// The tenant's sip_digest shows the default (MD5 first) until set, takes the four
// values, and refuses anything else with a 400 naming the field.
func TestTenantSIPDigest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	if g := e.must(200, tok, "GET", "/api/v1/tenants/default", nil).json(t); g["sip_digest"] != "md5,sha-256" {
		t.Fatalf("default sip_digest: %v", g["sip_digest"])
	}
	for _, bad := range []string{"sha-512", "md5,md5", "plain"} {
		if x := e.do(tok, "PATCH", "/api/v1/tenants/default", map[string]any{"sip_digest": bad}); x.status != 400 || x.errField() != "sip_digest" {
			t.Errorf("%q: %d %s", bad, x.status, x.body)
		}
	}
	if g := e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"sip_digest": "sha-256"}).json(t); g["sip_digest"] != "sha-256" {
		t.Fatalf("set: %v", g["sip_digest"])
	}
	if ten, _ := e.st.Tenant("default"); ten.SIPDigest != "sha-256" {
		t.Fatalf("stored: %q", ten.SIPDigest)
	}
}
