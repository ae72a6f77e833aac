package admin

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/store"
)

func TestImportThroughAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	csv := "\ufeffFirstName;LastName;Department;EmailAddress;Role\nAnn;Smith;Sales;ann@example.com;Manager\nBob;Jones;Ops;;User\n"
	a := e.must(200, tok, "POST", "/api/v1/tenants/default/users/import?dry_run=true", csv).json(t)
	if len(a["users"].([]any)) != 2 {
		t.Fatalf("dry run: %v", a)
	}
	var n int
	e.st.View(func(tx *store.Tx) error {
		us, _ := tx.Users("default", "", 0)
		n = len(us)
		return nil
	})
	if n != 1 {
		t.Fatalf("dry run wrote users: %d", n)
	}
	a = e.must(201, tok, "POST", "/api/v1/tenants/default/users/import", csv).json(t)
	users := a["users"].([]any)
	if len(users) != 2 || users[0].(map[string]any)["pin"] == "" {
		t.Fatalf("import: %v", a)
	}
	// A rejected file: every error with line and column, nothing written.
	bad := "FirstName,LastName,EmailAddress\nCarl,,carl@example.com\nDora,Lee,ann@example.com\n"
	r := e.do(tok, "POST", "/api/v1/tenants/default/users/import", bad)
	if r.status != 422 || r.errCode() != "import_rejected" || !strings.Contains(string(r.body), `"line":3`) {
		t.Fatalf("rejected import: %d %s", r.status, r.body)
	}
	// The Role column obeys the escalation rules: a system_admin may not promote.
	sadm := e.session(e.user("default", store.RoleSystemAdmin, ""))
	r = e.do(sadm, "POST", "/api/v1/tenants/default/users/import", "FirstName,LastName,Role\nEve,Up,System Owner\n")
	if r.status != 403 || !strings.Contains(r.errMessage(), "line 2") {
		t.Fatalf("escalating import: %d %s", r.status, r.body)
	}
	e.must(201, sadm, "POST", "/api/v1/tenants/default/users/import", "FirstName,LastName\nEve,Plain\n")
	// Department-scoped managers do not import.
	mgr := e.session(e.user("default", store.RoleManager, e.dept("default", "Mgmt")))
	e.must(403, mgr, "POST", "/api/v1/tenants/default/users/import", "FirstName,LastName\nF,G\n")
	// Audited with the actor.
	found := false
	for _, ev := range e.auditEvents("default") {
		found = found || (ev.Action == "users.import" && ev.ActorEmail == "admin@localhost" && ev.Source == "127.0.0.1")
	}
	if !found {
		t.Error("import not audited")
	}
}
