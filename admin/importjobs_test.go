package admin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// waitJob polls an import job until it ends, with a deadline.
func waitJob(t *testing.T, e *env, tok, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j := e.must(200, tok, "GET", "/api/v1/tenants/default/users/import/jobs/"+id, nil).json(t)
		if s := j["state"]; s == "done" || s == "failed" {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import job %s did not end: %v", id, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestImportJobReportsProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	var b strings.Builder
	b.WriteString("FirstName,LastName,Department\n")
	const rows = 300
	for i := range rows {
		fmt.Fprintf(&b, "First%d,Last%d,Sales\n", i, i)
	}
	j := e.must(202, tok, "POST", "/api/v1/tenants/default/users/import?async=true", b.String()).json(t)
	id, _ := j["id"].(string)
	if id == "" || j["state"] != "queued" {
		t.Fatalf("start: %v", j)
	}
	// Only the person who started it reads it (its report holds generated secrets).
	other := e.session(e.user("default", store.RoleSystemOwner, ""))
	e.must(404, other, "GET", "/api/v1/tenants/default/users/import/jobs/"+id, nil)
	j = waitJob(t, e, tok, id)
	res, _ := j["result"].(map[string]any)
	if j["state"] != "done" || j["done"] != float64(rows) || j["total"] != float64(rows) || res == nil || len(res["users"].([]any)) != rows {
		t.Fatalf("done: state %v %v/%v, %d users", j["state"], j["done"], j["total"], len(fmt.Sprint(res)))
	}
	if pin, _ := res["users"].([]any)[0].(map[string]any)["pin"].(string); pin == "" {
		t.Error("the job's report lacks the generated PIN")
	}
	var n int
	e.st.View(func(tx *store.Tx) error {
		us, _ := tx.Users("default", "", 0)
		n = len(us)
		return nil
	})
	if n != rows+2 { // the bootstrap owner and the other owner
		t.Fatalf("%d users after the job", n)
	}

	// A rejected file fails the job with every error by line and column.
	bad := "FirstName,LastName,EmailAddress\nCarl,,carl@example.com\nDora,Lee,x@example.com\nEd,Lee,x@example.com\n"
	j = e.must(202, tok, "POST", "/api/v1/tenants/default/users/import?async=true&dry_run=true", bad).json(t)
	j = waitJob(t, e, tok, j["id"].(string))
	errObj, _ := j["error"].(map[string]any)
	details, _ := j["details"].(map[string]any)
	if j["state"] != "failed" || errObj["code"] != "import_rejected" || details == nil {
		t.Fatalf("rejected job: %v", j)
	}
	issues := fmt.Sprint(details["errors"])
	if !strings.Contains(issues, "column:LastName line:2") || !strings.Contains(issues, "column:EmailAddress line:4") {
		t.Errorf("rejected job's errors: %s", issues)
	}
	e.must(404, tok, "GET", "/api/v1/tenants/default/users/import/jobs/nosuchjob", nil)

	// One import of a tenant at a time: a second while a big one runs is told to wait.
	var big strings.Builder
	big.WriteString("FirstName,LastName\n")
	for i := range 5000 {
		fmt.Fprintf(&big, "Big%d,Row%d\n", i, i)
	}
	first := e.must(202, tok, "POST", "/api/v1/tenants/default/users/import?async=true&dry_run=true", big.String()).json(t)
	r := e.do(tok, "POST", "/api/v1/tenants/default/users/import?async=true&dry_run=true", big.String())
	if r.status != 429 || r.errCode() != "busy" || r.header.Get("Retry-After") == "" {
		t.Errorf("a second import while one runs: %d %s", r.status, r.body)
	}
	if j := waitJob(t, e, tok, first["id"].(string)); j["state"] != "done" || j["total"] != float64(5000) {
		t.Errorf("big dry run: %v %v/%v", j["state"], j["done"], j["total"])
	}
	e.must(202, tok, "POST", "/api/v1/tenants/default/users/import?async=true&dry_run=true", "FirstName,LastName\nA,B\n")
	e.must(400, tok, "POST", "/api/v1/tenants/default/users/import?async=maybe", bad)
}
