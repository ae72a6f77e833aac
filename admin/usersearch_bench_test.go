package admin

import (
	"net/url"
	"runtime"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// BenchmarkUserSearch… measure GET …/users over 10,000 users through the real listener
// (one request per iteration): the figures in doc.go come from them.
func benchUserSearch(b *testing.B, query string) {
	e := newEnv(b)
	tok := e.adminToken()
	depts := []string{e.dept("default", "Sales"), e.dept("default", "Support"), e.dept("default", "Finance")}
	fillUsers(b, e, 10000, depts)
	e.userPage(tok, query) // the first request builds what later ones use
	b.ResetTimer()
	for b.Loop() {
		e.userPage(tok, query)
	}
}

func BenchmarkUserSearchName(b *testing.B) { benchUserSearch(b, "sort=name&limit=100") }
func BenchmarkUserSearchDepartmentDesc(b *testing.B) {
	benchUserSearch(b, "sort=-department&limit=100")
}
func BenchmarkUserSearchWords(b *testing.B) {
	benchUserSearch(b, "q="+url.QueryEscape("anna vries")+"&limit=100")
}
func BenchmarkUserSearchOne(b *testing.B) { benchUserSearch(b, "q=user09999&sort=extension") }

// BenchmarkUserIndexLoad loads the index of a tenant of 10,000 users from the store and
// reports the heap it keeps per user (B/user).
func BenchmarkUserIndexLoad(b *testing.B) {
	e := newEnv(b)
	depts := []string{e.dept("default", "Sales"), e.dept("default", "Support"), e.dept("default", "Finance")}
	fillUsers(b, e, 10000, depts)
	var kept *tenantUsers
	var perUser float64
	for b.Loop() {
		kept = nil
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t := &tenantUsers{}
		if err := t.load(e.st, "default"); err != nil {
			b.Fatal(err)
		}
		kept = t
		runtime.GC()
		runtime.ReadMemStats(&after)
		perUser = float64(after.HeapAlloc-before.HeapAlloc) / float64(len(kept.users))
	}
	b.ReportMetric(perUser, "B/user")
	runtime.KeepAlive(kept)
}

// BenchmarkUserListSmallDepartment lists a department of one user among 10,000 (id
// order, no q or sort).
func BenchmarkUserListSmallDepartment(b *testing.B) {
	e := newEnv(b)
	tok := e.adminToken()
	depts := []string{e.dept("default", "Sales"), e.dept("default", "Support"), e.dept("default", "Finance")}
	fillUsers(b, e, 10000, depts)
	tiny := e.dept("default", "Tiny")
	e.user("default", store.RoleUser, tiny)
	query := "department_id=" + tiny + "&limit=100"
	e.userPage(tok, query)
	b.ResetTimer()
	for b.Loop() {
		e.userPage(tok, query)
	}
}
