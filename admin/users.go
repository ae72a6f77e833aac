package admin

import (
	"slices"

	"github.com/dialtone/dialtone/store"
)

// listUsers: GET …/users, the colleagues of the tenant (directory.read), optionally of
// one department (?department_id=), searched (?q=) and sorted (?sort=): usersearch.go.
// A department's list and every search or sort come from the users index (userindex.go).
func (a *API) listUsers(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDirectoryRead)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	dept := string(r.ctx.QueryArgs().Peek("department_id"))
	if r.ctx.QueryArgs().Has("q") || r.ctx.QueryArgs().Has("sort") {
		return a.searchUsers(r, sc, limit, cursor, dept)
	}
	if dept != "" { // a small department's few users among many: from the index (usersearch.go)
		idx, err := a.users.tenant(sc.tenant)
		if err != nil {
			return nil, err
		}
		hits := idx.page(sortID, false, "", cursor, dept, nil, limit+1)
		return a.pageOfHits(sc, hits, limit, func(h indexHit) string { return h.id }, false)
	}
	var users []store.User
	err = a.view(func(tx *store.Tx) (err error) {
		users, err = tx.Users(sc.tenant, cursor, limit+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = viewFor(sc, u)
	}
	return paginate(views, limit, func(v userView) string { return v.ID }), nil
}

// getUser: GET …/users/{id}.
func (a *API) getUser(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var u store.User
	if err := a.view(func(tx *store.Tx) (err error) { u, err = tx.User(sc.tenant, r.param("id")); return err }); err != nil {
		return nil, err
	}
	isSelf := u.ID == sc.self.ID && u.Tenant == sc.self.Tenant
	if !isSelf {
		if err := sc.need(store.PermDirectoryRead); err != nil {
			return nil, err
		}
	}
	return viewFor(sc, u), nil
}

// userBody is POST …/users.
type userBody struct {
	FirstName        string             `json:"first_name"`
	LastName         string             `json:"last_name"`
	Email            string             `json:"email"`
	Role             store.Role         `json:"role"`
	DepartmentID     string             `json:"department_id"`
	Departments      []string           `json:"departments"`
	Language         string             `json:"language"`
	Timezone         string             `json:"timezone"`
	Mobile           string             `json:"mobile"`
	PIN              string             `json:"pin"`
	Password         string             `json:"password"`
	Extensions       []string           `json:"extensions"` // absent or null: next free; []: none
	ExternalNumbers  []string           `json:"external_numbers"`
	ManagedTenants   []string           `json:"managed_tenants"`
	ExtraPermissions []store.Permission `json:"extra_permissions"`
}

// createUser: POST …/users answers 201 with the user and, once, the generated PIN and
// password.
func (a *API) createUser(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	var in userBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = store.RoleUser
	}
	if !in.Role.Valid() {
		return nil, badRequest("role", "unknown role "+string(in.Role))
	}
	// Department scope: a department-level manager creates users in their departments.
	if !sc.deptInScope(in.DepartmentID) {
		return nil, forbiddenField("department_id", "you may create users only in your own departments")
	}
	for _, d := range in.Departments {
		if !sc.deptInScope(d) {
			return nil, forbiddenField("departments", "you may add users only to your own departments")
		}
	}
	if err := a.checkGrant(sc, nil, in.Role, in.ExtraPermissions, nil, in.ManagedTenants, r.caller); err != nil {
		return nil, err
	}
	var view userView
	err = a.update(func(tx *store.Tx) error {
		u, gen, err := tx.CreateUser(sc.tenant, store.NewUser{
			FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Role: in.Role,
			DepartmentID: in.DepartmentID, Departments: in.Departments, Language: in.Language,
			Timezone: in.Timezone, Mobile: in.Mobile, PIN: in.PIN, Password: in.Password,
			Extensions: in.Extensions, ExternalNumbers: in.ExternalNumbers,
			ManagedTenants: in.ManagedTenants, ExtraPermissions: in.ExtraPermissions,
		})
		if err != nil {
			return err
		}
		view = fullUserView(u, nil)
		if err := r.audit(tx, sc.tenant, "user.create", "user/"+u.ID, u.ID, nil, view); err != nil {
			return err
		}
		view.PIN, view.Password = gen.PIN, gen.Password
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.welcome(sc.tenant, view.ID, view.Email)
	r.status = 201
	return view, nil
}

// managedUser loads the user of {id} and answers 403 unless the caller holds
// users.manage over them.
func managedUser(tx *store.Tx, r *request, sc *scope) (store.User, error) {
	u, err := tx.User(sc.tenant, r.param("id"))
	if err != nil {
		return u, err
	}
	return u, sc.needOn(store.PermUsersManage, u)
}

// deleteUser: DELETE …/users/{id} removes the user and every reference to them.
func (a *API) deleteUser(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		u, err := managedUser(tx, r, sc)
		if err != nil {
			return err
		}
		if err := mayDelete(tx, sc, u); err != nil {
			return err
		}
		if _, err := tx.DeleteUser(sc.tenant, u.ID); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "user.delete", "user/"+u.ID, u.ID, fullUserView(u, nil), nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// lastOwnerGuard refuses to delete (next == "") or demote the last system_owner of a
// tenant.
func lastOwnerGuard(tx *store.Tx, u store.User, next store.Role) error {
	if u.Role != store.RoleSystemOwner || next == store.RoleSystemOwner {
		return nil
	}
	other, err := tx.OtherSystemOwner(u.Tenant, u.ID)
	if err != nil {
		return err
	}
	if !other {
		return &Problem{Status: 409, Code: "last_system_owner", Field: "role",
			Message: "the last system_owner of a tenant can be neither deleted nor demoted"}
	}
	return nil
}

// checkGrant applies docs/roles.md's escalation rules to a role, extra permissions and
// managed tenants being given (prev is the target's record for a change, nil for a new
// user):
//   - a role other than user or none, or any change of role, needs users.promote;
//   - nobody raises anyone above their own role, nor gives or takes system_admin
//     without roles.system_admin;
//   - extra permissions need users.promote, and only ones the caller holds can be added
//     or removed;
//   - managed tenants need tenant-wide users.manage both here and in each tenant named.
func (a *API) checkGrant(sc *scope, prev *store.User, role store.Role, extra []store.Permission,
	prevManaged, managed []string, c *caller) error {
	var prevRole store.Role
	var prevExtra []store.Permission
	if prev != nil {
		prevRole, prevExtra = prev.Role, prev.ExtraPermissions
	}
	roleChanged := prev != nil && role != prevRole
	if (prev == nil && role != store.RoleUser && role != store.RoleNone) || roleChanged {
		if err := sc.need(store.PermUsersPromote); err != nil {
			return forbiddenField("role", "giving or changing a role needs users.promote")
		}
	}
	if role.Rank() > sc.rank {
		return forbiddenField("role", "you cannot give a role above your own")
	}
	givesOrTakes := (prev == nil || roleChanged) && (role == store.RoleSystemAdmin || prevRole == store.RoleSystemAdmin)
	if givesOrTakes && !sc.can(store.PermRolesSystemAdmin) {
		return forbiddenField("role", "only a system_owner gives or takes system_admin (roles.system_admin)")
	}
	added, removed := diff(prevExtra, extra)
	if len(added)+len(removed) > 0 {
		if !sc.can(store.PermUsersPromote) {
			return forbiddenField("extra_permissions", "extra permissions need users.promote")
		}
		for _, p := range append(added, removed...) {
			if !p.Valid() {
				return badRequest("extra_permissions", "unknown permission "+string(p))
			}
			if !sc.can(p) {
				return forbiddenField("extra_permissions", "you cannot grant or take "+string(p)+": you do not hold it")
			}
		}
	}
	tAdded, tRemoved := diff(prevManaged, managed)
	if len(tAdded)+len(tRemoved) > 0 {
		if !sc.wide || !sc.can(store.PermUsersManage) {
			return forbiddenField("managed_tenants", "managed tenants need users.manage over the whole tenant")
		}
		for _, t := range append(tAdded, tRemoved...) {
			other, ok := c.scopeIn(t)
			if !ok || !other.wide || !other.can(store.PermUsersManage) {
				return forbiddenField("managed_tenants", "you do not manage tenant "+t)
			}
		}
	}
	return nil
}

// diff gives what next adds to prev and what it drops.
func diff[T comparable](prev, next []T) (added, removed []T) {
	for _, x := range next {
		if !slices.Contains(prev, x) && !slices.Contains(added, x) {
			added = append(added, x)
		}
	}
	for _, x := range prev {
		if !slices.Contains(next, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}
