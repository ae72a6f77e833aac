package admin

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPICoversRoutes walks the router's route table: every route must be in the
// served document, and every documented operation must be a route.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	a := e.must(200, "", "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comp    struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(a.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	routes := map[string]bool{}
	for _, rt := range e.api.routes {
		routes[rt.name()] = true
		if _, ok := doc.Paths[rt.pattern][strings.ToLower(rt.method)]; !ok {
			t.Errorf("route %s is missing from openapi.json", rt.name())
		}
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			if !routes[strings.ToUpper(m)+" "+path] {
				t.Errorf("openapi.json describes %s %s, which is no route", strings.ToUpper(m), path)
			}
		}
	}
	// Every schema referenced is defined.
	for _, ref := range strings.Split(string(a.body), `"$ref": "#/components/schemas/`)[1:] {
		name := ref[:strings.IndexByte(ref, '"')]
		if _, ok := doc.Comp.Schemas[name]; !ok {
			t.Errorf("schema %s referenced but not defined", name)
		}
	}
	// The core routes of the API are all there.
	for _, must := range []string{"POST /api/v1/auth/login", "POST /api/v1/auth/view-as", "GET /api/v1/tenants/{slug}/outbox",
		"PUT /api/v1/tenants/{slug}/users/{id}/photo", "POST /api/v1/tenants/{slug}/users/import"} {
		if !routes[must] {
			t.Errorf("no route %s", must)
		}
	}
}

// TestOpenAPIDocumentsLinksAndResets: the set-password link's 410 (used twice, late or
// unknown) and the reset route's two answers (shown once 200, mailed 202) are in the
// document, with the mail flag in the reset body.
func TestOpenAPIDocumentsLinksAndResets(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Responses   map[string]json.RawMessage `json:"responses"`
			RequestBody struct {
				Required bool `json:"required"`
			} `json:"requestBody"`
		} `json:"paths"`
		Comp struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(e.must(200, "", "GET", "/api/v1/openapi.json", nil).body, &doc); err != nil {
		t.Fatal(err)
	}
	sp := doc.Paths["/api/v1/auth/set-password"]["post"]
	if r, ok := sp.Responses["410"]; !ok || !strings.Contains(string(r), "Error") {
		t.Errorf("set-password does not document 410: %v", sp.Responses)
	}
	rp := doc.Paths["/api/v1/tenants/{slug}/users/{id}/reset-password"]["post"]
	for _, code := range []string{"200", "202", "403", "409", "503"} {
		if _, ok := rp.Responses[code]; !ok {
			t.Errorf("reset-password does not document %s", code)
		}
	}
	if rp.RequestBody.Required {
		t.Error("reset-password body documented as required; it may be left out")
	}
	if _, ok := doc.Comp.Schemas["ResetPassword"].Properties["mail"]; !ok {
		t.Error("ResetPassword schema has no mail member")
	}
}
