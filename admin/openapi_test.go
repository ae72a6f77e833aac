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
	// The INTERFACES.md core is all there.
	for _, must := range []string{"POST /api/v1/auth/login", "POST /api/v1/auth/view-as", "GET /api/v1/tenants/{slug}/outbox",
		"PUT /api/v1/tenants/{slug}/users/{id}/photo", "POST /api/v1/tenants/{slug}/users/import"} {
		if !routes[must] {
			t.Errorf("no route %s", must)
		}
	}
}
