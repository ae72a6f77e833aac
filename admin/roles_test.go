package admin

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// rolesTable is docs/roles.md's permission table, written out again here (not taken from the
// store) so that a change to either side fails this test.
var rolesTable = map[store.Permission]string{
	//                         user recep dadm mgr owner sadm sown
	store.PermDirectoryRead:     "1111111",
	store.PermSelfManage:        "1111111",
	store.PermCallsOthers:       "0101111",
	store.PermChatManage:        "0111111",
	store.PermOfficeHours:       "0111111",
	store.PermDepartmentSetting: "0011111",
	store.PermReportsRead:       "0001111",
	store.PermRecordingsRead:    "0001101",
	store.PermCallsListen:       "0001101",
	store.PermUsersManage:       "0001111",
	store.PermUsersPromote:      "0000101",
	store.PermRolesSystemAdmin:  "0000001",
	store.PermDepartmentsManage: "0000011",
	store.PermPhonesManage:      "0000011",
	store.PermTenantSettings:    "0000011",
	store.PermUsersViewAs:       "0000011",
}

var loginRoles = []store.Role{store.RoleUser, store.RoleReceptionist, store.RoleDepartmentAdmin,
	store.RoleManager, store.RoleOwner, store.RoleSystemAdmin, store.RoleSystemOwner}

// probes exercise each permission through an API action that needs it; PBX-only
// permissions (nil here) are checked through the effective permission list alone.
type probeFn func(e *env, tok string, fx *fixture, n int) answer

type fixture struct {
	dept, other string
	actor       store.User
}

var probes = map[store.Permission]probeFn{
	store.PermDirectoryRead: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "GET", "/api/v1/tenants/acme/users", nil)
	},
	store.PermSelfManage: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "PATCH", "/api/v1/me", map[string]string{"language": "nl"})
	},
	store.PermDepartmentSetting: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "PATCH", "/api/v1/tenants/acme/departments/"+fx.dept, map[string]string{"timezone": "Europe/Amsterdam"})
	},
	store.PermReportsRead: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "GET", "/api/v1/tenants/acme/audit", nil)
	},
	store.PermUsersManage: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "POST", "/api/v1/tenants/acme/users", map[string]any{"first_name": "New", "last_name": fmt.Sprint(n), "department_id": fx.dept, "extensions": []string{}})
	},
	store.PermUsersPromote: func(e *env, tok string, fx *fixture, n int) answer {
		target := e.user("acme", store.RoleUser, fx.dept)
		return e.do(tok, "PATCH", "/api/v1/tenants/acme/users/"+target.ID, map[string]string{"role": "receptionist"})
	},
	store.PermRolesSystemAdmin: func(e *env, tok string, fx *fixture, n int) answer {
		target := e.user("acme", store.RoleUser, fx.dept)
		return e.do(tok, "PATCH", "/api/v1/tenants/acme/users/"+target.ID, map[string]string{"role": "system_admin"})
	},
	store.PermDepartmentsManage: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "POST", "/api/v1/tenants/acme/departments", map[string]string{"name": fmt.Sprintf("Dept %d", n)})
	},
	store.PermPhonesManage: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "POST", "/api/v1/tenants/acme/phones", map[string]any{"mac": fmt.Sprintf("00:15:65:00:00:%02x", n)})
	},
	store.PermTenantSettings: func(e *env, tok string, fx *fixture, n int) answer {
		return e.do(tok, "PATCH", "/api/v1/tenants/acme", map[string]string{"name": fmt.Sprintf("Acme %d", n)})
	},
	store.PermUsersViewAs: func(e *env, tok string, fx *fixture, n int) answer {
		target := e.user("acme", store.RoleUser, fx.dept)
		return e.do(tok, "POST", "/api/v1/auth/view-as", map[string]string{"tenant": "acme", "user_id": target.ID})
	},
}

func TestRolePermissionMatrix(t *testing.T) {
	e := newEnv(t)
	e.tenant("acme")
	fx := &fixture{dept: e.dept("acme", "Sales"), other: e.dept("acme", "Ops")}
	n := 0
	for ri, role := range loginRoles {
		actor := e.user("acme", role, fx.dept)
		tok := e.session(actor)
		fx.actor = actor
		me := e.must(200, tok, "GET", "/api/v1/me", nil).json(t)
		var listed []string
		for _, p := range me["permissions"].([]any) {
			pm := p.(map[string]any)
			if pm["source"] != "role" {
				t.Errorf("%s: permission %v has source %v", role, pm["name"], pm["source"])
			}
			listed = append(listed, pm["name"].(string))
		}
		for _, perm := range store.Permissions {
			want := rolesTable[perm][ri] == '1'
			t.Run(string(role)+"/"+string(perm), func(t *testing.T) {
				if got := slices.Contains(listed, string(perm)); got != want {
					t.Errorf("effective list: has %s = %v, want %v", perm, got, want)
				}
				probe := probes[perm]
				if probe == nil {
					return // PBX permission: the effective list is what Dialtone enforces
				}
				n++
				a := probe(e, tok, fx, n)
				switch {
				case want && (a.status < 200 || a.status > 299):
					t.Errorf("allowed action answered %d: %s", a.status, a.body)
				case !want && a.status != 403:
					t.Errorf("forbidden action answered %d, want 403: %s", a.status, a.body)
				}
			})
		}
	}
}

func TestRoleNoneCannotLogIn(t *testing.T) {
	e := newEnv(t)
	e.user("default", store.RoleNone, "", func(in *store.NewUser) {
		in.Email, in.Password = "lobby@example.com", "lobby phone pw 1"
	})
	a := e.do("", "POST", "/api/v1/auth/login", map[string]string{"email": "lobby@example.com", "password": "lobby phone pw 1"})
	if a.status != 403 {
		t.Fatalf("role none login: %d %s", a.status, a.body)
	}
	// A user demoted to none loses the sessions they had.
	u := e.user("default", store.RoleUser, "")
	tok := e.session(u)
	e.must(200, tok, "GET", "/api/v1/me", nil)
	adm := e.adminToken()
	e.must(200, adm, "PATCH", "/api/v1/tenants/default/users/"+u.ID, map[string]string{"role": "none"})
	if a := e.do(tok, "GET", "/api/v1/me", nil); a.status != 401 {
		t.Fatalf("session of a user now none: %d", a.status)
	}
}

func TestDepartmentScope(t *testing.T) {
	e := newEnv(t)
	e.tenant("acme")
	sales, ops := e.dept("acme", "Sales"), e.dept("acme", "Ops")
	mgr := e.user("acme", store.RoleManager, sales)
	tok := e.session(mgr)
	mine := e.user("acme", store.RoleUser, sales)
	theirs := e.user("acme", store.RoleUser, ops)
	e.must(200, tok, "PATCH", "/api/v1/tenants/acme/users/"+mine.ID, map[string]string{"first_name": "Mine"})
	e.must(403, tok, "PATCH", "/api/v1/tenants/acme/users/"+theirs.ID, map[string]string{"first_name": "Theirs"})
	e.must(403, tok, "DELETE", "/api/v1/tenants/acme/users/"+theirs.ID, nil)
	a := e.must(403, tok, "POST", "/api/v1/tenants/acme/users", map[string]any{"first_name": "A", "last_name": "B", "department_id": ops})
	if a.errField() != "department_id" {
		t.Errorf("field %q", a.errField())
	}
	e.must(403, tok, "PATCH", "/api/v1/tenants/acme/users/"+mine.ID, map[string]string{"department_id": ops})
	// A colleague outside the department is still visible, without admin parts.
	got := e.must(200, tok, "GET", "/api/v1/tenants/acme/users/"+theirs.ID, nil).json(t)
	if _, ok := got["permissions"]; ok {
		t.Error("colleague view shows permissions")
	}
	// Further memberships widen the scope: the manager joins Ops as a second department.
	sown := e.session(e.user("acme", store.RoleSystemOwner, ""))
	e.must(200, sown, "PATCH", "/api/v1/tenants/acme/users/"+mgr.ID, map[string]any{"departments": []string{ops}})
	e.must(200, tok, "PATCH", "/api/v1/tenants/acme/users/"+theirs.ID, map[string]string{"first_name": "Now mine"})
	// Department settings reach only own departments.
	dadm := e.session(e.user("acme", store.RoleDepartmentAdmin, sales))
	e.must(200, dadm, "PATCH", "/api/v1/tenants/acme/departments/"+sales, map[string]string{"language": "de"})
	e.must(403, dadm, "PATCH", "/api/v1/tenants/acme/departments/"+ops, map[string]string{"language": "de"})
	e.must(403, dadm, "PATCH", "/api/v1/tenants/acme/departments/"+sales, map[string]string{"name": "Renamed"})
}

func TestEscalationRules(t *testing.T) {
	e := newEnv(t)
	e.tenant("acme")
	d := e.dept("acme", "Sales")
	owner := e.user("acme", store.RoleOwner, d)
	otok := e.session(owner)
	u := e.user("acme", store.RoleUser, d)
	path := "/api/v1/tenants/acme/users/" + u.ID
	for _, role := range []string{"system_admin", "system_owner"} {
		if a := e.do(otok, "PATCH", path, map[string]string{"role": role}); a.status != 403 || a.errField() != "role" {
			t.Errorf("owner gives %s: %d %s", role, a.status, a.body)
		}
	}
	e.must(200, otok, "PATCH", path, map[string]string{"role": "owner"}) // up to one's own
	e.must(200, otok, "PATCH", path, map[string]string{"role": "user"})
	// Own role: never.
	if a := e.do(otok, "PATCH", "/api/v1/tenants/acme/users/"+owner.ID, map[string]string{"role": "manager"}); a.status != 403 {
		t.Errorf("own role change: %d", a.status)
	}
	// Creating with a role above one's own.
	if a := e.do(otok, "POST", "/api/v1/tenants/acme/users", map[string]any{"first_name": "A", "last_name": "B", "department_id": d, "role": "system_owner"}); a.status != 403 {
		t.Errorf("create system_owner by owner: %d", a.status)
	}
	// Extra permissions: only those one holds.
	if a := e.do(otok, "PATCH", path, map[string]any{"extra_permissions": []string{"phones.manage"}}); a.status != 403 || a.errField() != "extra_permissions" {
		t.Errorf("owner grants phones.manage: %d %s", a.status, a.body)
	}
	got := e.must(200, otok, "PATCH", path, map[string]any{"extra_permissions": []string{"reports.read"}}).json(t)
	found := false
	for _, p := range got["permissions"].([]any) {
		pm := p.(map[string]any)
		if pm["name"] == "reports.read" {
			found = pm["source"] == "extra"
		}
	}
	if !found {
		t.Errorf("reports.read not listed as extra: %v", got["permissions"])
	}
	// The extra permission works: the user now reads the audit log.
	e.must(200, e.session(u), "GET", "/api/v1/tenants/acme/audit", nil)
	// A manager cannot promote; a system_admin neither; a system_owner gives system_admin.
	mgr := e.session(e.user("acme", store.RoleManager, d))
	e.must(403, mgr, "PATCH", path, map[string]string{"role": "receptionist"})
	sadm := e.session(e.user("acme", store.RoleSystemAdmin, ""))
	e.must(403, sadm, "PATCH", path, map[string]string{"role": "receptionist"})
	sown := e.user("acme", store.RoleSystemOwner, "")
	stok := e.session(sown)
	e.must(200, stok, "PATCH", path, map[string]string{"role": "system_admin"})
	// Nobody but a system_owner takes it away again, and nobody changes a higher rank.
	e.must(403, otok, "PATCH", path, map[string]string{"role": "user"})
	e.must(200, stok, "PATCH", path, map[string]string{"role": "user"})
	// A system_admin cannot touch a system_owner.
	e.must(403, sadm, "PATCH", "/api/v1/tenants/acme/users/"+sown.ID, map[string]string{"first_name": "X"})
}

func TestLastSystemOwner(t *testing.T) {
	e := newEnv(t)
	adm := e.adminToken()
	// The operator creates tenant acme through the API: it joins their managed tenants.
	e.must(201, adm, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"})
	a := e.must(201, adm, "POST", "/api/v1/tenants/acme/users", map[string]any{"first_name": "Only", "last_name": "Owner", "role": "system_owner"})
	only := a.json(t)["id"].(string)
	a = e.do(adm, "DELETE", "/api/v1/tenants/acme/users/"+only, nil)
	if a.status != 409 || a.errCode() != "last_system_owner" {
		t.Fatalf("delete last owner: %d %s", a.status, a.body)
	}
	a = e.do(adm, "PATCH", "/api/v1/tenants/acme/users/"+only, map[string]string{"role": "owner"})
	if a.status != 409 {
		t.Fatalf("demote last owner: %d %s", a.status, a.body)
	}
	second := e.user("acme", store.RoleSystemOwner, "")
	e.must(200, adm, "PATCH", "/api/v1/tenants/acme/users/"+only, map[string]string{"role": "owner"})
	if a := e.do(adm, "DELETE", "/api/v1/tenants/acme/users/"+second.ID, nil); a.status != 409 {
		t.Fatalf("delete the new last owner: %d", a.status)
	}
	// Own demotion is refused as such.
	me := e.must(200, adm, "GET", "/api/v1/me", nil).json(t)
	if a := e.do(adm, "PATCH", "/api/v1/tenants/default/users/"+me["id"].(string), map[string]string{"role": "owner"}); a.status != 403 {
		t.Fatalf("own demotion: %d", a.status)
	}
	if a := e.do(adm, "DELETE", "/api/v1/tenants/default/users/"+me["id"].(string), nil); a.status != 403 {
		t.Fatalf("own delete: %d", a.status)
	}
}
