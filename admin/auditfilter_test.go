package admin

import (
	"net/url"
	"testing"
	"time"
)

// The audit log filters by action prefix and by time, on the server.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	e.must(201, tok, "POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Sales"})
	e.clock.Advance(2 * time.Hour)
	mid := e.clock.Now().Add(-time.Hour)
	e.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Ann", "last_name": "Smith"})
	e.must(201, tok, "POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Ops"})

	list := func(q string) []any {
		t.Helper()
		return e.must(200, tok, "GET", "/api/v1/tenants/default/audit?"+q, nil).json(t)["items"].([]any)
	}
	actions := func(items []any) (out []string) {
		for _, it := range items {
			out = append(out, it.(map[string]any)["action"].(string))
		}
		return out
	}
	if got := actions(list("action=department.")); len(got) != 2 || got[0] != "department.create" || got[1] != "department.create" {
		t.Errorf("action=department.: %v", got)
	}
	since := url.QueryEscape(mid.Format(time.RFC3339))
	if got := actions(list("since=" + since)); len(got) != 2 {
		t.Errorf("since: %v", got)
	}
	if got := actions(list("until=" + since)); len(got) == 0 || got[0] == "user.create" {
		t.Errorf("until: %v", got)
	}
	if got := actions(list("since=" + since + "&action=department.")); len(got) != 1 {
		t.Errorf("since and action: %v", got)
	}
	r := e.do(tok, "GET", "/api/v1/tenants/default/audit?since=yesterday", nil)
	if r.status != 400 || r.errField() != "since" {
		t.Errorf("bad since: %d %s", r.status, r.body)
	}
}
