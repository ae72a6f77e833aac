package store

import "errors"

// BootstrapAdminEmail is the login of the first System Owner.
const BootstrapAdminEmail = "admin@localhost"

// Bootstrap prepares an empty store on first start: tenant "default" and a System Owner
// admin@localhost with the given password (a generated one when empty). It does nothing
// on a store that already has a tenant. The password is returned only when generated.
func (s *Store) Bootstrap(adminPassword string) (created bool, generated string, err error) {
	err = s.Update(func(tx *Tx) error {
		ts, err := tx.Tenants("", 1)
		if err != nil || len(ts) > 0 {
			return err
		}
		if _, err := tx.CreateTenant(NewTenant{Slug: DefaultTenant, Name: "Default"}); err != nil {
			return err
		}
		in := NewUser{FirstName: "System", LastName: "Owner", Email: BootstrapAdminEmail,
			Role: RoleSystemOwner, Password: adminPassword, Extensions: []string{}}
		_, gen, err := tx.CreateUser(DefaultTenant, in)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && fe.Field == "password" {
				return invalid("admin-password", "%s", fe.Msg)
			}
			return err
		}
		created, generated = true, gen.Password
		return tx.Audit(AuditEvent{Tenant: DefaultTenant, Action: "bootstrap", Object: "tenant/default"})
	})
	return created, generated, err
}
