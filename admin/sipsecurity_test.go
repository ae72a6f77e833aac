package admin

import "testing"

// The tenant's sip_transport and srtp show their defaults (udp, off) until set, take
// their values in any case, and refuse anything else with a 400 naming the field.
func TestTenantSIPTransportAndSRTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	g := e.must(200, tok, "GET", "/api/v1/tenants/default", nil).json(t)
	if g["sip_transport"] != "udp" || g["srtp"] != "off" {
		t.Fatalf("defaults: %v %v", g["sip_transport"], g["srtp"])
	}
	for field, bad := range map[string]string{"sip_transport": "sctp", "srtp": "always"} {
		if x := e.do(tok, "PATCH", "/api/v1/tenants/default", map[string]any{field: bad}); x.status != 400 || x.errField() != field {
			t.Errorf("%s %q: %d %s", field, bad, x.status, x.body)
		}
	}
	g = e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"sip_transport": "TLS", "srtp": "Required"}).json(t)
	if g["sip_transport"] != "tls" || g["srtp"] != "required" {
		t.Fatalf("set: %v %v", g["sip_transport"], g["srtp"])
	}
	if ten, _ := e.st.Tenant("default"); ten.SIPTransport != "tls" || ten.SRTP != "required" {
		t.Fatalf("stored: %q %q", ten.SIPTransport, ten.SRTP)
	}
}
