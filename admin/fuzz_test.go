package admin

import (
	"testing"
)

// FuzzDecodeJSON: any body gives a decoded value or a 400-class Problem, never a panic.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"first_name":"A"}`, `{"extensions":["1",]}`, `{"a":{"b":[1,{"c":`, `[`, `{"role":5}`, `}`, `{"pin":"1"} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in userPatch
		err := decodeJSON(b, &in)
		if err == nil {
			return
		}
		p, ok := toProblem(err)
		if !ok || p.Status != 400 {
			t.Fatalf("body %q: %v -> %+v", b, err, p)
		}
	})
}

// FuzzRouter: any method and path find a route or none, never a panic, and a matched
// route's parameters are the path's segments.
func FuzzRouter(f *testing.F) {
	a := &API{}
	a.routes = a.routeTable()
	for _, s := range []string{"/api/v1/tenants/x/users/y", "/api/v1//", "/api/v1/tenants/{slug}", "/", "/api/v1/tenants/a/phones/b/resync"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		rt, params, _, _ := a.match(method, path)
		if rt == nil {
			return
		}
		for k, v := range params {
			if v == "" || k == "" {
				t.Fatalf("empty parameter %q=%q for %q", k, v, path)
			}
		}
	})
}
