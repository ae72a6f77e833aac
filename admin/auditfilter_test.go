package admin

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
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

// TestAuditScanIsBounded: a filtered page of the audit log reads at most auditScan
// events, then ends early with a next_cursor, which leads on to the older match.
func TestAuditScanIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	write := func(n int, action string) {
		err := e.st.Update(func(tx *store.Tx) error {
			for range n {
				if err := tx.Audit(store.AuditEvent{Tenant: "default", Action: action, Subject: "nobody"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	write(1, "probe.old")
	for range (auditScan + 10 + 499) / 500 {
		write(500, "noise.event")
	}
	var page struct {
		Items      []store.AuditEvent `json:"items"`
		NextCursor string             `json:"next_cursor"`
	}
	get := func(q string) {
		t.Helper()
		page.Items, page.NextCursor = nil, ""
		if err := json.Unmarshal(e.must(200, tok, "GET", "/api/v1/tenants/default/audit?"+q, nil).body, &page); err != nil {
			t.Fatal(err)
		}
	}
	get("action=probe.")
	if len(page.Items) != 0 || page.NextCursor == "" {
		t.Fatalf("first page: %d items, next %q; want none read past %d events, and a cursor", len(page.Items), page.NextCursor, auditScan)
	}
	for range 3 {
		if len(page.Items) > 0 || page.NextCursor == "" {
			break
		}
		get("action=probe.&cursor=" + url.QueryEscape(page.NextCursor))
	}
	if len(page.Items) != 1 || page.Items[0].Action != "probe.old" {
		t.Fatalf("following the cursor: %+v", page.Items)
	}
}
