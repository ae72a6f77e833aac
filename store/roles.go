package store

import "slices"

// Role is a user's one role (docs/roles.md). Roles are ordered: a higher rank never answers to
// a lower one.
type Role string

const (
	RoleNone            Role = "none"
	RoleUser            Role = "user"
	RoleReceptionist    Role = "receptionist"
	RoleDepartmentAdmin Role = "department_admin"
	RoleManager         Role = "manager"
	RoleOwner           Role = "owner"
	RoleSystemAdmin     Role = "system_admin"
	RoleSystemOwner     Role = "system_owner"
)

// Roles lists every role from lowest to highest.
var Roles = []Role{RoleNone, RoleUser, RoleReceptionist, RoleDepartmentAdmin, RoleManager, RoleOwner, RoleSystemAdmin, RoleSystemOwner}

// Rank orders roles; -1 for an unknown role.
func (r Role) Rank() int { return slices.Index(Roles, r) }

// Valid says whether r is a known role.
func (r Role) Valid() bool { return r.Rank() >= 0 }

// TenantWide says whether the role's permissions act on the whole tenant rather than on
// the actor's own departments.
func (r Role) TenantWide() bool { return r == RoleSystemAdmin || r == RoleSystemOwner }

// Permission is a named right, as the API speaks it.
type Permission string

const (
	PermDirectoryRead     Permission = "directory.read"
	PermSelfManage        Permission = "self.manage"
	PermCallsOthers       Permission = "calls.others"
	PermChatManage        Permission = "chat.manage"
	PermOfficeHours       Permission = "office_hours.manage"
	PermDepartmentSetting Permission = "department.settings"
	PermReportsRead       Permission = "reports.read"
	PermRecordingsRead    Permission = "recordings.read"
	PermCallsListen       Permission = "calls.listen"
	PermUsersManage       Permission = "users.manage"
	PermUsersPromote      Permission = "users.promote"
	PermRolesSystemAdmin  Permission = "roles.system_admin"
	PermDepartmentsManage Permission = "departments.manage"
	PermPhonesManage      Permission = "phones.manage"
	PermTenantSettings    Permission = "tenant.settings"
	PermUsersViewAs       Permission = "users.view_as"
)

// Permissions lists every permission in the order of docs/roles.md.
var Permissions = []Permission{
	PermDirectoryRead, PermSelfManage, PermCallsOthers, PermChatManage, PermOfficeHours,
	PermDepartmentSetting, PermReportsRead, PermRecordingsRead, PermCallsListen,
	PermUsersManage, PermUsersPromote, PermRolesSystemAdmin, PermDepartmentsManage,
	PermPhonesManage, PermTenantSettings, PermUsersViewAs,
}

// Valid says whether p is a known permission.
func (p Permission) Valid() bool { return slices.Contains(Permissions, p) }

// rolePermissions is the table of docs/roles.md, column by column.
var rolePermissions = map[Role][]Permission{
	RoleNone: nil,
	RoleUser: {PermDirectoryRead, PermSelfManage},
	RoleReceptionist: {PermDirectoryRead, PermSelfManage, PermCallsOthers, PermChatManage,
		PermOfficeHours},
	RoleDepartmentAdmin: {PermDirectoryRead, PermSelfManage, PermChatManage, PermOfficeHours,
		PermDepartmentSetting},
	RoleManager: {PermDirectoryRead, PermSelfManage, PermCallsOthers, PermChatManage,
		PermOfficeHours, PermDepartmentSetting, PermReportsRead, PermRecordingsRead,
		PermCallsListen, PermUsersManage},
	RoleOwner: {PermDirectoryRead, PermSelfManage, PermCallsOthers, PermChatManage,
		PermOfficeHours, PermDepartmentSetting, PermReportsRead, PermRecordingsRead,
		PermCallsListen, PermUsersManage, PermUsersPromote},
	RoleSystemAdmin: {PermDirectoryRead, PermSelfManage, PermCallsOthers, PermChatManage,
		PermOfficeHours, PermDepartmentSetting, PermReportsRead, PermUsersManage,
		PermDepartmentsManage, PermPhonesManage, PermTenantSettings, PermUsersViewAs},
	RoleSystemOwner: Permissions,
}

// RolePermissions is the role's inherited permission set.
func RolePermissions(r Role) []Permission { return rolePermissions[r] }

// HasPermission says whether the role grants p.
func (r Role) HasPermission(p Permission) bool { return slices.Contains(rolePermissions[r], p) }

// Effective is the role's permissions ∪ the user's extra permissions.
func (u *User) Effective() []Permission {
	out := slices.Clone(rolePermissions[u.Role])
	for _, p := range u.ExtraPermissions {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
