package admin

import (
	"errors"

	"github.com/dialtone/dialtone/store"
)

// userPatch is PATCH …/users/{id} and PATCH /api/v1/me: only the members present change.
type userPatch struct {
	FirstName        *string             `json:"first_name"`
	LastName         *string             `json:"last_name"`
	Email            *string             `json:"email"`
	Role             *store.Role         `json:"role"`
	DepartmentID     *string             `json:"department_id"`
	Departments      *[]string           `json:"departments"`
	Language         *string             `json:"language"`
	Timezone         *string             `json:"timezone"`
	Mobile           *string             `json:"mobile"`
	Extensions       *[]string           `json:"extensions"`
	ExternalNumbers  *[]string           `json:"external_numbers"`
	ManagedTenants   *[]string           `json:"managed_tenants"`
	ExtraPermissions *[]store.Permission `json:"extra_permissions"`
	PIN              *string             `json:"pin"`
	Password         *string             `json:"password"`
	// OldPassword is required when a user changes their own password.
	OldPassword *string `json:"old_password"`
	// ResetPIN and ResetPassword generate a new one, shown once in the answer.
	ResetPIN      bool `json:"reset_pin"`
	ResetPassword bool `json:"reset_password"`
}

// adminPart says whether the patch touches anything beyond self-service (own PIN,
// language, password).
func (p *userPatch) adminPart() bool {
	return p.FirstName != nil || p.LastName != nil || p.Email != nil || p.DepartmentID != nil ||
		p.Departments != nil || p.Timezone != nil || p.Mobile != nil || p.Extensions != nil ||
		p.ExternalNumbers != nil || p.ResetPassword
}

// touchesCredentials says whether the patch changes what lets someone log in as the user
// or act with their rights (mayTouchCredentials): password, PIN, email, extra
// permissions or managed tenants.
func (p *userPatch) touchesCredentials(prev store.User) bool {
	if p.Password != nil || p.PIN != nil || p.ResetPIN || p.ResetPassword {
		return true
	}
	if p.Email != nil && *p.Email != prev.Email {
		return true
	}
	if p.ExtraPermissions != nil {
		if a, rm := diff(prev.ExtraPermissions, *p.ExtraPermissions); len(a)+len(rm) > 0 {
			return true
		}
	}
	if p.ManagedTenants != nil {
		if a, rm := diff(prev.ManagedTenants, *p.ManagedTenants); len(a)+len(rm) > 0 {
			return true
		}
	}
	return false
}

func (a *API) patchUser(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	return a.changeUser(r, sc, r.param("id"))
}

// changeUser applies a patch with docs/roles.md's rules: self-service needs self.manage (and
// the old password for a new one); everything else users.manage over the target; roles,
// extra permissions and managed tenants the escalation rules of checkGrant; nobody
// changes their own role; the last system_owner stays.
func (a *API) changeUser(r *request, sc *scope, id string) (any, error) {
	var in userPatch
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	// A wrong old password is struck against the source like a failed login, before the
	// hash is spent (throttle.go): a locked-out source spends no hash here either.
	var oldPW func(ok bool, err error)
	var oldPWOK bool
	oldPWErr := errOldPasswordUnchecked
	if in.Password != nil && in.OldPassword != nil {
		done, p := a.attempt(r, "wrong passwords")
		if p != nil {
			return nil, p
		}
		oldPW = done
		defer func() { oldPW(oldPWOK, oldPWErr) }()
	}
	var view userView
	err := a.update(func(tx *store.Tx) error {
		prev, err := tx.User(sc.tenant, id)
		if err != nil {
			return err
		}
		isSelf := prev.ID == sc.self.ID && prev.Tenant == sc.self.Tenant
		next := prev
		next.Departments = append([]string(nil), prev.Departments...)
		next.Extensions = append([]string(nil), prev.Extensions...)
		next.ExternalNumbers = append([]string(nil), prev.ExternalNumbers...)
		if in.Role != nil {
			next.Role = *in.Role
			if !next.Role.Valid() {
				return badRequest("role", "unknown role "+string(next.Role))
			}
		}
		if in.ExtraPermissions != nil {
			next.ExtraPermissions = *in.ExtraPermissions
		}
		if in.ManagedTenants != nil {
			next.ManagedTenants = *in.ManagedTenants
		}
		if isSelf {
			if next.Role != prev.Role {
				return forbiddenField("role", "you cannot change your own role")
			}
			if a, rm := diff(prev.ExtraPermissions, next.ExtraPermissions); len(a)+len(rm) > 0 {
				return forbiddenField("extra_permissions", "you cannot change your own permissions")
			}
			if a, rm := diff(prev.ManagedTenants, next.ManagedTenants); len(a)+len(rm) > 0 {
				return forbiddenField("managed_tenants", "you cannot change your own managed tenants")
			}
			if err := sc.need(store.PermSelfManage); err != nil {
				return err
			}
			// In a view-as session "me" is someone else: their credentials are the
			// actor's to change only as for anyone else.
			if r.caller.viewAs && in.touchesCredentials(prev) {
				if err := r.caller.mayTouchCredentials(sc, prev); err != nil {
					return err
				}
			}
			if in.ResetPassword {
				return badRequest("reset_password", "change your own password with password and old_password")
			}
			if in.Password != nil {
				if in.OldPassword == nil || *in.OldPassword == "" {
					return badRequest("old_password", "your current password is required to set a new one")
				}
				ok, err := a.st.Secrets().CheckPassword(r.ctx, passwordAccount(prev), *in.OldPassword, prev.PasswordHash)
				oldPWOK, oldPWErr = ok, err
				if err != nil {
					return err // the password gate is busy: 429
				}
				if !ok {
					return forbiddenField("old_password", "the current password is wrong")
				}
			}
			if in.adminPart() {
				if err := sc.needOn(store.PermUsersManage, prev); err != nil {
					return err
				}
			}
		} else {
			if err := sc.needOn(store.PermUsersManage, prev); err != nil {
				return err
			}
			if prev.Role.Rank() > sc.rank {
				return forbidden("you cannot change a user whose role is above yours")
			}
			if in.touchesCredentials(prev) {
				if err := r.caller.mayTouchCredentials(sc, prev); err != nil {
					return err
				}
			}
			if err := a.checkGrant(sc, &prev, next.Role, next.ExtraPermissions, prev.ManagedTenants, next.ManagedTenants, r.caller); err != nil {
				return err
			}
			if next.Role != prev.Role {
				if err := lastOwnerGuard(tx, prev, next.Role); err != nil {
					return err
				}
			}
		}
		if in.DepartmentID != nil && *in.DepartmentID != prev.DepartmentID {
			if !sc.deptInScope(*in.DepartmentID) {
				return forbiddenField("department_id", "you may move users only into your own departments")
			}
			next.DepartmentID = *in.DepartmentID
		}
		if in.Departments != nil {
			added, _ := diff(prev.Departments, *in.Departments)
			for _, d := range added {
				if !sc.deptInScope(d) {
					return forbiddenField("departments", "you may add users only to your own departments")
				}
			}
			next.Departments = *in.Departments
		}
		setString(&next.FirstName, in.FirstName)
		setString(&next.LastName, in.LastName)
		setString(&next.Email, in.Email)
		setString(&next.Language, in.Language)
		setString(&next.Timezone, in.Timezone)
		setString(&next.Mobile, in.Mobile)
		if in.Extensions != nil {
			next.Extensions = *in.Extensions
		}
		if in.ExternalNumbers != nil {
			next.ExternalNumbers = *in.ExternalNumbers
		}
		sec := a.st.Secrets()
		var gen store.Generated
		var changedSecrets []string
		switch {
		case in.PIN != nil || in.ResetPIN:
			pin, err := newPIN(tx, sc.tenant, in.PIN, next.Extensions)
			if err != nil {
				return err
			}
			gen.PIN = pin.generated
			next.PINHash = sec.HashPIN(next.PINOwner(), pin.set)
			changedSecrets = append(changedSecrets, "pin")
		}
		switch {
		case in.Password != nil:
			if err := store.CheckPasswordStrength(*in.Password); err != nil {
				return err
			}
			h, err := sec.HashPassword(r.ctx, *in.Password)
			if err != nil {
				return err // the password gate is busy: 429
			}
			next.PasswordHash = h
			changedSecrets = append(changedSecrets, "password")
		case in.ResetPassword:
			gen.Password = store.GeneratePassword()
			next.PasswordHash = sec.HashGeneratedPassword(gen.Password)
			changedSecrets = append(changedSecrets, "password")
		}
		if err := tx.SaveUser(prev, next); err != nil {
			return err
		}
		saved, err := tx.User(sc.tenant, id)
		if err != nil {
			return err
		}
		// A user who loses access, or whose password someone else set, is logged out.
		if (saved.Role == store.RoleNone && prev.Role != store.RoleNone) || (!isSelf && len(gen.Password)+len(changedSecretsPassword(changedSecrets)) > 0) {
			if err := tx.EndUserSessions(saved.Tenant, saved.ID); err != nil {
				return err
			}
		}
		after := map[string]any{"user": fullUserView(saved, nil)}
		if len(changedSecrets) > 0 {
			after["secrets_changed"] = changedSecrets
		}
		if err := r.audit(tx, sc.tenant, "user.update", "user/"+saved.ID, saved.ID,
			map[string]any{"user": fullUserView(prev, nil)}, after); err != nil {
			return err
		}
		if isSelf {
			self := *sc
			self.self = saved
			view = fullUserView(saved, &self)
		} else {
			view = viewFor(sc, saved)
		}
		view.PIN, view.Password = gen.PIN, gen.Password
		return nil
	})
	if err != nil {
		return nil, err
	}
	return view, nil
}

func changedSecretsPassword(s []string) string {
	for _, x := range s {
		if x == "password" {
			return x
		}
	}
	return ""
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// errOldPasswordUnchecked: the change ended before the old password was checked, so its
// tentative strike is given back.
var errOldPasswordUnchecked = errors.New("old password not checked")
