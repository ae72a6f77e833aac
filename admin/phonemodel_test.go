package admin

import (
	"strings"
	"testing"
	"time"
)

// TestPhoneModelMustBeKnown: create, update, claim and CSV import refuse a model the
// model table does not list, with 422 naming the field and the closest models.
func TestPhoneModelMustBeKnown(t *testing.T) {
	pe := newProvEnv(t)
	tok := pe.adminToken()
	r := pe.do(tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5E:C0:00:00:01", "model": "X999"})
	if r.status != 422 || r.errCode() != "unknown_model" || !strings.Contains(string(r.body), `"field":"model"`) {
		t.Fatalf("unknown model on create: %d %s", r.status, r.body)
	}
	r = pe.do(tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5E:C0:00:00:01", "model": "T46"})
	if r.status != 422 || !strings.Contains(string(r.body), `"closest":["T46U","T46S"`) && !strings.Contains(string(r.body), `"closest":["T46S","T46U"`) {
		t.Fatalf("closest models not named: %d %s", r.status, r.body)
	}
	// Any case is accepted and stored as the table writes it, with its make.
	p := pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5E:C0:00:00:01", "model": "t46u"}).json(t)
	if p["model"] != "T46U" || p["make"] != "yealink" {
		t.Fatalf("created: %v", p)
	}
	r = pe.do(tok, "PATCH", "/api/v1/tenants/default/phones/805ec0000001", map[string]any{"model": "VVX45"})
	if r.status != 422 || !strings.Contains(string(r.body), "VVX450") {
		t.Fatalf("unknown model on update: %d %s", r.status, r.body)
	}
	p = pe.must(200, tok, "PATCH", "/api/v1/tenants/default/phones/805ec0000001", map[string]any{"model": "vvx450"}).json(t)
	if p["model"] != "VVX450" || p["make"] != "poly" {
		t.Fatalf("updated: %v", p)
	}
	// CSV import: the row fails on its Model column, nothing is written.
	csv := "FirstName,LastName,MAC,Model\nZed,Zulu,80:5E:C0:00:00:02,X999\n"
	r = pe.do(tok, "POST", "/api/v1/tenants/default/users/import", csv)
	if r.status != 422 || !strings.Contains(string(r.body), `"column":"Model"`) || !strings.Contains(string(r.body), "closest") {
		t.Fatalf("unknown model in import: %d %s", r.status, r.body)
	}
	pe.must(404, tok, "GET", "/api/v1/tenants/default/phones/805ec0000002", nil)
	pe.must(201, tok, "POST", "/api/v1/tenants/default/users/import", "FirstName,LastName,MAC,Model\nZed,Zulu,80:5E:C0:00:00:02,d785\n")
	if p := pe.must(200, tok, "GET", "/api/v1/tenants/default/phones/805ec0000002", nil).json(t); p["model"] != "D785" || p["make"] != "snom" {
		t.Fatalf("imported phone: %v", p)
	}
}

// TestDiscoveredPhoneClaimTakesModel: a phone that asked for its file shows in the
// discovered list with the make and model its User-Agent told; adding its MAC without a
// model takes them, in the table's spelling.
func TestDiscoveredPhoneClaimTakesModel(t *testing.T) {
	pe := newProvEnv(t)
	tok := pe.adminToken()
	if st, _ := pe.fetch("805ec0000009.cfg"); st != 404 {
		t.Fatalf("unknown phone: %d", st)
	}
	var d map[string]any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && d == nil; time.Sleep(20 * time.Millisecond) {
		if items := pe.must(200, tok, "GET", "/api/v1/tenants/default/discovered-phones", nil).json(t)["items"].([]any); len(items) > 0 {
			d = items[0].(map[string]any)
		}
	}
	if d == nil || d["make"] != "yealink" || d["model"] != "T46U" {
		t.Fatalf("discovered: %v", d)
	}
	p := pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000009"}).json(t)
	if p["make"] != "yealink" || p["model"] != "T46U" {
		t.Fatalf("claimed: %v", p)
	}
}
