package admin

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// TestImportDuplicatesThroughAPI: a second import of a file skips the people it made
// (a warning per row, dry run and real); on_duplicate=update changes them under the same
// role rules as PATCH; a bad on_duplicate is 400.
func TestImportDuplicatesThroughAPI(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	csv := "FirstName,LastName,EmailAddress\nAnn,Smith,ann@example.com\nBob,Jones,\n"
	e.must(201, tok, "POST", "/api/v1/tenants/default/users/import", csv)
	for _, q := range []string{"?dry_run=true", ""} {
		r := e.do(tok, "POST", "/api/v1/tenants/default/users/import"+q, csv)
		a := r.json(t)
		if len(a["users"].([]any)) != 0 || len(a["duplicates"].([]any)) != 2 || !strings.Contains(string(r.body), "matches existing user Bob Jones") {
			t.Fatalf("second import%s: %d %s", q, r.status, r.body)
		}
	}
	var n int
	e.st.View(func(tx *store.Tx) error { us, _ := tx.Users("default", "", 0); n = len(us); return nil })
	if n != 3 {
		t.Fatalf("%d users after two imports, want 3", n)
	}
	e.must(400, tok, "POST", "/api/v1/tenants/default/users/import?on_duplicate=merge", csv)
	a := e.must(201, tok, "POST", "/api/v1/tenants/default/users/import?on_duplicate=update", "FirstName,LastName,EmailAddress,Role\nAnnie,Smith,ann@example.com,Manager\n").json(t)
	if d := a["duplicates"].([]any); len(d) != 1 || d[0].(map[string]any)["action"] != "updated" {
		t.Fatalf("update: %v", a)
	}
	// A user admin without users.promote may not change a role through an update.
	uadm := e.session(e.user("default", store.RoleOwner, "", func(u *store.NewUser) { u.Email = "own@example.com" }))
	r := e.do(uadm, "POST", "/api/v1/tenants/default/users/import?on_duplicate=update", "FirstName,LastName,EmailAddress,Role\nA,B,admin@localhost,User\n")
	if r.status != 403 {
		t.Fatalf("demoting the system owner by import: %d %s", r.status, r.body)
	}
}
