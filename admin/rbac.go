package admin

import (
	"errors"
	"slices"

	"github.com/dialtone/dialtone/store"
)

// caller is who is behind a request's session.
type caller struct {
	token string
	sess  store.Session
	// user is the identity the session acts as; actor the person behind it. They are the
	// same unless the session is a view-as session (docs/roles.md, "View as").
	user   store.User
	actor  store.User
	viewAs bool
	// byCookie: the token came in the console's session cookie (cookiesession.go).
	byCookie bool
}

// scope is what a caller may do in one tenant (docs/roles.md): the permissions, whether they
// act on the whole tenant or on their own departments, and the rank no one may be
// raised above.
type scope struct {
	tenant string
	self   store.User // the acting identity
	perms  []store.Permission
	extra  []store.Permission // the part of perms that is extra, not from the role
	wide   bool
	depts  []string
	rank   int
}

func (s *scope) can(p store.Permission) bool { return slices.Contains(s.perms, p) }

// inScope says whether the caller's department-scoped permissions reach user u: every
// user of the tenant for tenant-wide roles, else users whose main department is one of
// the caller's departments.
func (s *scope) inScope(u store.User) bool {
	if u.Tenant != s.tenant {
		return false
	}
	return s.wide || (u.DepartmentID != "" && slices.Contains(s.depts, u.DepartmentID))
}

// canOn says whether the caller holds p for user u.
func (s *scope) canOn(p store.Permission, u store.User) bool { return s.can(p) && s.inScope(u) }

func (s *scope) deptInScope(id string) bool {
	return s.wide || (id != "" && slices.Contains(s.depts, id))
}

// reach is what user u may do in tenant slug on their own: at home their role's and
// extra permissions over their departments; in a managed tenant their role's
// permissions only (docs/roles.md, "Managed tenants"), with no departments there.
func reach(u store.User, slug string) (sc scope, ok bool) {
	if u.Role == store.RoleNone || !u.Role.Valid() {
		return sc, false
	}
	sc = scope{tenant: slug, self: u, wide: u.Role.TenantWide(), rank: u.Role.Rank()}
	switch {
	case slug == u.Tenant:
		sc.perms = u.Effective()
		for _, p := range u.ExtraPermissions {
			if !u.Role.HasPermission(p) {
				sc.extra = append(sc.extra, p)
			}
		}
		if u.DepartmentID != "" {
			sc.depts = append(sc.depts, u.DepartmentID)
		}
		sc.depts = append(sc.depts, u.Departments...)
	case slices.Contains(u.ManagedTenants, slug):
		sc.perms = slices.Clone(store.RolePermissions(u.Role))
	default:
		return sc, false
	}
	return sc, true
}

// scopeIn is the caller's scope in a tenant; ok is false when they cannot reach it. In a
// view-as session it is the target's scope cut down to what the actor holds there.
func (c *caller) scopeIn(slug string) (*scope, bool) {
	sc, ok := reach(c.user, slug)
	if !ok {
		return nil, false
	}
	if !c.viewAs {
		return &sc, true
	}
	as, ok := reach(c.actor, slug)
	if !ok {
		return nil, false
	}
	sc.perms = slices.DeleteFunc(sc.perms, func(p store.Permission) bool { return !as.can(p) })
	sc.extra = slices.DeleteFunc(sc.extra, func(p store.Permission) bool { return !as.can(p) })
	sc.wide = sc.wide && as.wide
	sc.rank = min(sc.rank, as.rank)
	return &sc, true
}

// home is the caller's scope in the tenant of the identity it acts as.
func (c *caller) home() *scope {
	sc, ok := c.scopeIn(c.user.Tenant)
	if !ok {
		return &scope{tenant: c.user.Tenant, self: c.user}
	}
	return sc
}

// tenantScope resolves {slug}: a tenant the caller cannot reach answers 404, so nobody
// learns which other tenants exist.
func (r *request) tenantScope() (*scope, error) {
	slug := r.param("slug")
	sc, ok := r.caller.scopeIn(slug)
	if !ok || !store.ValidSlug(slug) {
		return nil, notFound("no such tenant")
	}
	return sc, nil
}

// tenantNeeding resolves {slug} as tenantScope does and answers 403 unless the caller
// holds p there.
func (r *request) tenantNeeding(p store.Permission) (*scope, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if err := sc.need(p); err != nil {
		return nil, err
	}
	return sc, nil
}

// need answers 403 unless the scope holds p.
func (s *scope) need(p store.Permission) error {
	if !s.can(p) {
		return forbidden("you lack the permission " + string(p))
	}
	return nil
}

func (s *scope) needOn(p store.Permission, u store.User) error {
	if err := s.need(p); err != nil {
		return err
	}
	if !s.inScope(u) {
		return forbidden(string(p) + " does not reach this user (not in your departments)")
	}
	return nil
}

// authenticate resolves the bearer token (or the console's session cookie) of a request. A session whose user (or, for
// view-as, whose actor) is gone, has role none, or lost users.view_as is no session.
func (a *API) authenticate(r *request) (*caller, error) {
	tok, byCookie, err := requestToken(r.ctx) // cookiesession.go
	if err != nil {
		return nil, err
	}
	c := &caller{token: tok, byCookie: byCookie}
	err = a.view(func(tx *store.Tx) error {
		s, err := tx.Session(c.token)
		if err != nil {
			return err
		}
		c.sess = s
		if c.user, err = tx.User(s.Tenant, s.UserID); err != nil {
			return err
		}
		c.actor = c.user
		if s.ActorID != "" {
			c.viewAs = true
			if c.actor, err = tx.User(s.ActorTenant, s.ActorID); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	if c.user.Role == store.RoleNone || c.actor.Role == store.RoleNone {
		return nil, errUnauthorized
	}
	if c.viewAs {
		as, ok := reach(c.actor, c.user.Tenant)
		if !ok || !as.can(store.PermUsersViewAs) {
			return nil, errUnauthorized
		}
	}
	return c, nil
}

func roleNames() []string {
	out := make([]string, len(store.Roles))
	for i, r := range store.Roles {
		out[i] = string(r)
	}
	return out
}

func permissionNames() []string {
	out := make([]string, len(store.Permissions))
	for i, p := range store.Permissions {
		out[i] = string(p)
	}
	return out
}

// mayTouchCredentials decides whether the caller, acting with scope sc, may change what
// lets someone log in as target or act with target's rights: their password (reset,
// shown or mailed, or set), PIN, SIP credentials, email, extra permissions or managed
// tenants, or send them a new set-password link. Whoever can do that can become target,
// so it is allowed only when becoming target gives nothing the caller lacks:
//   - target does not rank above the caller;
//   - target holds no extra permission the caller lacks, and manages no tenant the
//     caller cannot reach (at any rank: each of these is power of its own);
//   - at the caller's own rank, target has no department outside the caller's reach.
//
// A System Owner holds every permission over the whole tenant, so only another tenant
// target manages and the caller does not can stop them. Acting on oneself is PATCH
// /api/v1/me (old password required). The refusal is a 403 naming the reason.
func (c *caller) mayTouchCredentials(sc *scope, target store.User) error {
	const what = "you cannot change this person's password, PIN, email or permissions"
	if target.Role.Rank() > sc.rank {
		return forbidden(what + ": their role " + string(target.Role) + " ranks above yours")
	}
	for _, p := range target.ExtraPermissions {
		if !sc.can(p) {
			return forbidden(what + ": they hold the extra permission " + string(p) + ", which you lack")
		}
	}
	for _, t := range target.ManagedTenants {
		if _, ok := c.scopeIn(t); !ok {
			return forbidden(what + ": they manage tenant " + t + ", which you do not")
		}
	}
	if target.Role.Rank() == sc.rank {
		for _, d := range append([]string{target.DepartmentID}, target.Departments...) {
			if d != "" && !sc.deptInScope(d) {
				return forbidden(what + ": they share your role and belong to department " + d + ", which is outside yours")
			}
		}
	}
	return nil
}
