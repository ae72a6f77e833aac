package admin

import (
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/store"
)

// Mount names the route pattern a request matched (cmd/dialtone's metrics label), never
// the raw path.
func TestMountNamesRouteAndSIPRegeneration(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	route := func(method, path string) (string, int) {
		var ctx fasthttp.RequestCtx
		ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
		ctx.Request.Header.SetMethod(method)
		ctx.Request.SetRequestURI(path)
		ctx.Request.Header.Set("Authorization", "Bearer "+tok)
		name, ok := e.api.Mount(&ctx)
		if !ok {
			t.Fatalf("%s %s not mounted", method, path)
		}
		return name, ctx.Response.StatusCode()
	}
	if name, code := route("GET", "/api/v1/tenants/default/users/abc"); name != "GET /api/v1/tenants/{slug}/users/{id}" || code != 404 {
		t.Errorf("users/abc: %q %d", name, code)
	}
	if name, code := route("GET", "/api/v1/nowhere"); name != "unmatched" || code != 404 {
		t.Errorf("nowhere: %q %d", name, code)
	}

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
