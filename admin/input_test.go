package admin

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	users := "/api/v1/tenants/default/users"
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown field", `{"first_name":"A","last_name":"B","shoe_size":44}`, 400, "unknown_field", "shoe_size"},
		{"malformed", `{"first_name":"A","last_name": }`, 400, "malformed_json", "last_name"},
		{"malformed in array", `{"first_name":"A","last_name":"B","extensions":["201",]}`, 400, "malformed_json", "extensions.1"},
		{"truncated", `{"first_name":"A","email":"a@`, 400, "malformed_json", "email"},
		{"wrong type", `{"first_name":5,"last_name":"B"}`, 400, "invalid", "first_name"},
		{"wrong type in list", `{"first_name":"A","last_name":"B","extensions":[201]}`, 400, "invalid", "extensions"},
		{"not an object", `[1,2]`, 400, "invalid", ""},
		{"trailing data", `{"first_name":"A","last_name":"B"} {}`, 400, "invalid", ""},
		{"empty", ``, 400, "invalid", ""},
		{"bad email", map[string]any{"first_name": "A", "last_name": "B", "email": "not-an-email"}, 400, "invalid", "email"},
		{"bad e164", map[string]any{"first_name": "A", "last_name": "B", "external_numbers": []string{"0201234567"}}, 400, "invalid", "external_numbers"},
		{"bad mobile", map[string]any{"first_name": "A", "last_name": "B", "mobile": "12"}, 400, "invalid", "mobile"},
		{"bad extension", map[string]any{"first_name": "A", "last_name": "B", "extensions": []string{"01"}}, 400, "invalid", "extensions"},
		{"bad pin", map[string]any{"first_name": "A", "last_name": "B", "pin": "12"}, 400, "invalid", "pin"},
		{"bad role", map[string]any{"first_name": "A", "last_name": "B", "role": "emperor"}, 400, "invalid", "role"},
		{"bad language", map[string]any{"first_name": "A", "last_name": "B", "language": "klingon"}, 400, "invalid", "language"},
		{"missing name", map[string]any{"last_name": "B"}, 400, "invalid", "first_name"},
		{"short password", map[string]any{"first_name": "A", "last_name": "B", "password": "short"}, 400, "invalid", "password"},
		{"no department", map[string]any{"first_name": "A", "last_name": "B", "department_id": "nope"}, 400, "invalid", "department_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.do(tok, "POST", users, c.body)
			if a.status != c.status || a.errCode() != c.code || a.errField() != c.field {
				t.Errorf("got %d %s field %q, want %d %s field %q: %s", a.status, a.errCode(), a.errField(), c.status, c.code, c.field, a.body)
			}
		})
	}
	// Bad MAC, on create and in the path.
	a := e.do(tok, "POST", "/api/v1/tenants/default/phones", map[string]string{"mac": "00:15:65:zz:00:01"})
	if a.status != 400 || a.errField() != "mac" {
		t.Errorf("bad mac: %d %s", a.status, a.body)
	}
	if a := e.do(tok, "GET", "/api/v1/tenants/default/phones/xyz", nil); a.status != 400 || a.errField() != "mac" {
		t.Errorf("bad mac in path: %d %s", a.status, a.body)
	}
	// Bad paging.
	if a := e.do(tok, "GET", users+"?limit=0", nil); a.status != 400 || a.errField() != "limit" {
		t.Errorf("limit 0: %d %s", a.status, a.body)
	}
	// 405 and 404.
	if a := e.do(tok, "PUT", users, nil); a.status != 405 || a.header.Get("Allow") == "" {
		t.Errorf("PUT on users: %d", a.status)
	}
	if a := e.do(tok, "GET", "/api/v1/nothing", nil); a.status != 404 {
		t.Errorf("unknown path: %d", a.status)
	}
}

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	big := `{"first_name":"` + strings.Repeat("a", MaxJSONBody) + `","last_name":"B"}`
	if a := e.do(tok, "POST", "/api/v1/tenants/default/users", big); a.status != 413 || a.errCode() != "too_large" {
		t.Errorf("JSON over 1 MiB: %d %s", a.status, a.body)
	}
	csv := "FirstName,LastName\n" + strings.Repeat("a,b\n", MaxCSVBody/4)
	if a := e.do(tok, "POST", "/api/v1/tenants/default/users/import?dry_run=true", csv); a.status != 413 {
		t.Errorf("CSV over 20 MiB: %d %s", a.status, a.body)
	}
	// Under the CSV limit but over the JSON one, the import route takes it.
	var mid strings.Builder
	mid.WriteString("FirstName,LastName,Department,Notes\n")
	pad := strings.Repeat("x", 150)
	for i := 0; mid.Len() < 1<<20+1000; i++ {
		fmt.Fprintf(&mid, "First%d,Last%d,Dept %d,%s\n", i, i, i%5, pad)
	}
	a := e.do(tok, "POST", "/api/v1/tenants/default/users/import?dry_run=true", mid.String())
	if a.status != 200 || a.json(t)["dry_run"] != true {
		t.Errorf("1 MiB CSV dry run: %d %.300s", a.status, a.body)
	}
}

func TestDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	u := "/api/v1/tenants/default/users"
	e.must(201, tok, "POST", u, map[string]any{"first_name": "A", "last_name": "B", "email": "a@example.com", "extensions": []string{"201"}, "external_numbers": []string{"+31 20 123 4567"}})
	for name, body := range map[string]map[string]any{
		"email":            {"first_name": "C", "last_name": "D", "email": "A@Example.com"},
		"extensions":       {"first_name": "C", "last_name": "D", "extensions": []string{"201"}},
		"external_numbers": {"first_name": "C", "last_name": "D", "external_numbers": []string{"+31201234567"}},
	} {
		a := e.do(tok, "POST", u, body)
		if a.status != 409 || a.errField() != name {
			t.Errorf("duplicate %s: %d %s", name, a.status, a.body)
		}
	}
	e.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]string{"mac": "00:15:65:aa:bb:cc"})
	if a := e.do(tok, "POST", "/api/v1/tenants/default/phones", map[string]string{"mac": "0015.65AA.BBCC"}); a.status != 409 || a.errField() != "mac" {
		t.Errorf("duplicate mac: %d %s", a.status, a.body)
	}
	e.must(201, tok, "POST", "/api/v1/tenants/default/departments", map[string]string{"name": "Sales"})
	if a := e.do(tok, "POST", "/api/v1/tenants/default/departments", map[string]string{"name": "sales"}); a.status != 409 {
		t.Errorf("duplicate department: %d", a.status)
	}
	if a := e.do(tok, "POST", "/api/v1/tenants", map[string]string{"slug": "default"}); a.status != 409 || a.errField() != "slug" {
		t.Errorf("duplicate tenant: %d %s", a.status, a.body)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, h := range []string{"", "Bearer ", "Bearer bogus", "Basic YWRtaW46YWRtaW4=", "Bearer " + strings.Repeat("a", 300)} {
		a := e.do("", "GET", "/api/v1/me", nil, "Authorization", h)
		if a.status != 401 || a.errCode() != "unauthorized" {
			t.Errorf("Authorization %q: %d %s", h, a.status, a.body)
		}
	}
	tok := e.adminToken()
	e.must(200, tok, "GET", "/api/v1/me", nil)
	e.clock.Advance(12*time.Hour + time.Second)
	if a := e.do(tok, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Errorf("expired token: %d", a.status)
	}
	tok = e.adminToken()
	e.must(204, tok, "POST", "/api/v1/auth/logout", nil)
	if a := e.do(tok, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Errorf("token after logout: %d", a.status)
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 10; i++ {
		a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": "guess-" + string(rune('a'+i))})
		if a.status != 401 {
			t.Fatalf("attempt %d: %d %s", i, a.status, a.body)
		}
	}
	for i := 0; i < 3; i++ {
		// Locked: even the right password is refused now, without being checked.
		a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": adminPassword})
		if a.status != 429 || a.header.Get("Retry-After") == "" {
			t.Fatalf("locked attempt: %d %s", a.status, a.body)
		}
	}
	logs := e.logs.String()
	if n := strings.Count(logs, "login locked out"); n != 1 {
		t.Errorf("lockout logged %d times:\n%s", n, logs)
	}
	if strings.Contains(logs, "guess-") || strings.Contains(logs, adminPassword) {
		t.Error("a password reached the log")
	}
	e.clock.Advance(10*time.Minute + time.Second)
	e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "ADMIN@localhost", "password": adminPassword})
}

func TestLoginAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": adminPassword}).json(t)
	user := a["user"].(map[string]any)
	if user["role"] != "system_owner" || a["token"] == "" {
		t.Fatalf("login answer: %v", a)
	}
	for _, k := range []string{"password_hash", "pin_hash", "password", "pin"} {
		if _, ok := user[k]; ok {
			t.Errorf("login answer carries %s", k)
		}
	}
	if a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "whatever123"}); a.status != 401 {
		t.Errorf("unknown email: %d", a.status)
	}
	if a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost"}); a.status != 400 || a.errField() != "password" {
		t.Errorf("no password: %d %s", a.status, a.body)
	}
}
