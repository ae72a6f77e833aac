package admin

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

func TestOnRequestAndSIPRegeneration(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	e := newEnv(t, func(c *Config) {
		c.OnRequest = func(route string, status int, d time.Duration) {
			mu.Lock()
			seen[route] = status
			mu.Unlock()
		}
	})
	tok := e.adminToken()
	e.do(tok, "GET", "/api/v1/tenants/default/users/abc", nil)
	e.do(tok, "GET", "/api/v1/nowhere", nil)
	mu.Lock()
	if seen["GET /api/v1/tenants/{slug}/users/{id}"] != 404 || seen["unmatched"] != 404 || seen["POST /api/v1/auth/login"] != 200 {
		t.Errorf("routes seen: %v", seen)
	}
	mu.Unlock()

	u := e.user("default", store.RoleUser, "", func(in *store.NewUser) { in.Extensions = []string{"401"} })
	before, _ := e.st.Extension("default", "401")
	a := e.must(200, tok, "POST", "/api/v1/tenants/default/users/"+u.ID+"/sip-credentials", nil).json(t)
	item := a["items"].([]any)[0].(map[string]any)
	after, _ := e.st.Extension("default", "401")
	if item["sip_username"] != after.SIPUsername || after.SIPUsername == before.SIPUsername {
		t.Errorf("SIP credentials not regenerated: %v", item)
	}
	e.must(403, e.session(u), "POST", "/api/v1/tenants/default/users/"+u.ID+"/sip-credentials", nil)
}

// A system admin may regenerate users' SIP credentials, never those of a system owner.
func TestSIPRegenerationNotAboveOwnRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	manager := e.user("default", store.RoleSystemAdmin, "")
	owner := e.user("default", store.RoleSystemOwner, "", func(in *store.NewUser) { in.Extensions = []string{"402"} })
	user := e.user("default", store.RoleUser, "", func(in *store.NewUser) { in.Extensions = []string{"403"} })
	before, _ := e.st.Extension("default", "402")
	e.must(403, e.session(manager), "POST", "/api/v1/tenants/default/users/"+owner.ID+"/sip-credentials", nil)
	if after, _ := e.st.Extension("default", "402"); after.SIPUsername != before.SIPUsername {
		t.Error("the owner's SIP credentials changed after a refusal")
	}
	e.must(200, e.session(manager), "POST", "/api/v1/tenants/default/users/"+user.ID+"/sip-credentials", nil)
}

// Emergency numbers and the auto-logout policy are checked once, by the store, and a bad
// one is a 400 naming the field; a good one is kept.
func TestTenantFlexPolicyChecked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	for field, bad := range map[string]any{
		"emergency_numbers": []string{"1"},
		"auto_logout":       "weekly",
	} {
		a := e.must(400, tok, "PATCH", "/api/v1/tenants/default", map[string]any{field: bad})
		if !strings.Contains(string(a.body), field) {
			t.Errorf("%s: %s", field, a.body)
		}
	}
	e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"emergency_numbers": []string{"112", "911"}, "auto_logout": "daily:3:00"})
	ten, err := e.st.Tenant("default")
	if err != nil || len(ten.EmergencyNumbers) != 2 || ten.AutoLogout != "daily:3:00" {
		t.Errorf("kept: %+v %v", ten.EmergencyNumbers, err)
	}
}

// Listing a department's users pages from the cursor and keeps only its members.
func TestListUsersOfDepartmentPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.adminToken()
	sales, support := e.dept("default", "Sales"), e.dept("default", "Support")
	want := map[string]bool{}
	for i := range 5 {
		d := support
		if i%2 == 0 {
			d = sales
		}
		u := e.user("default", store.RoleUser, d)
		if d == sales {
			want[u.ID] = true
		}
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		page := e.must(200, tok, "GET", "/api/v1/tenants/default/users?limit=2&department_id="+sales+"&cursor="+cursor, nil).json(t)
		pages++
		for _, it := range page["items"].([]any) {
			u := it.(map[string]any)
			if u["department_id"] != sales || got[u["id"].(string)] {
				t.Errorf("page %d: %v", pages, u)
			}
			got[u["id"].(string)] = true
		}
		next, _ := page["next_cursor"].(string)
		if next == "" || pages > 5 {
			break
		}
		cursor = next
	}
	if len(got) != len(want) || pages != 2 {
		t.Errorf("%d of %d members over %d pages", len(got), len(want), pages)
	}
}
