package admin

import (
	"slices"
	"time"

	"github.com/dialtone/dialtone/store"
)

// permView is one effective permission with where it comes from.
type permView struct {
	Name   store.Permission `json:"name"`
	Source string           `json:"source"` // "role" or "extra"
}

// userView is a user as the API shows them: never a hash. The admin parts
// (managed_tenants, extra_permissions, permissions) are left out of a colleague's view.
type userView struct {
	ID               string             `json:"id"`
	Tenant           string             `json:"tenant"`
	FirstName        string             `json:"first_name"`
	LastName         string             `json:"last_name"`
	Email            string             `json:"email,omitempty"`
	Role             store.Role         `json:"role"`
	DepartmentID     string             `json:"department_id,omitempty"`
	Departments      []string           `json:"departments,omitempty"`
	Language         string             `json:"language,omitempty"`
	Timezone         string             `json:"timezone,omitempty"`
	Mobile           string             `json:"mobile,omitempty"`
	Extensions       []string           `json:"extensions"`
	ExternalNumbers  []string           `json:"external_numbers"`
	Photo            bool               `json:"photo"`
	ManagedTenants   []string           `json:"managed_tenants,omitempty"`
	ExtraPermissions []store.Permission `json:"extra_permissions,omitempty"`
	Permissions      []permView         `json:"permissions,omitempty"`
	Created          time.Time          `json:"created"`
	Updated          time.Time          `json:"updated"`
	// Generated secrets, in the one answer that creates or resets them.
	PIN      string `json:"pin,omitempty"`
	Password string `json:"password,omitempty"`
}

func colleagueView(u store.User) userView {
	v := userView{
		ID: u.ID, Tenant: u.Tenant, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Role: u.Role, DepartmentID: u.DepartmentID, Departments: u.Departments,
		Language: u.Language, Timezone: u.Timezone, Mobile: u.Mobile,
		Extensions: u.Extensions, ExternalNumbers: u.ExternalNumbers, Photo: u.Photo,
		Created: u.Created, Updated: u.Updated,
	}
	if v.Extensions == nil {
		v.Extensions = []string{}
	}
	if v.ExternalNumbers == nil {
		v.ExternalNumbers = []string{}
	}
	return v
}

// fullUserView adds managed tenants, extra permissions and the effective permission list.
// With sc (the user's own scope, cut down in view-as) the list is what they may do now;
// without, it is their record's set at home.
func fullUserView(u store.User, sc *scope) userView {
	v := colleagueView(u)
	v.ManagedTenants = u.ManagedTenants
	v.ExtraPermissions = u.ExtraPermissions
	v.Permissions = permissionList(u, sc)
	return v
}

func permissionList(u store.User, sc *scope) []permView {
	perms := u.Effective()
	if u.Role == store.RoleNone {
		perms = nil // role none holds nothing, extra permissions included
	}
	if sc != nil && sc.self.ID == u.ID && sc.self.Tenant == u.Tenant {
		perms = sc.perms
	}
	out := make([]permView, 0, len(perms))
	for _, p := range store.Permissions { // in the order of docs/roles.md
		if !slices.Contains(perms, p) {
			continue
		}
		src := "role"
		if !u.Role.HasPermission(p) {
			src = "extra"
		}
		out = append(out, permView{Name: p, Source: src})
	}
	return out
}

// viewFor shows u to the caller: the full record to who may manage u (and to u
// themselves), the colleague view to everyone else who reads the directory.
func viewFor(sc *scope, u store.User) userView {
	if (sc.self.ID == u.ID && sc.self.Tenant == u.Tenant) || sc.canOn(store.PermUsersManage, u) {
		if sc.self.ID == u.ID {
			return fullUserView(u, sc)
		}
		return fullUserView(u, nil)
	}
	return colleagueView(u)
}
