package admin

import "github.com/dialtone/dialtone/store"

// A MAC names one device across the installation, so it is in at most one tenant. A
// tenant claiming a MAC another tenant holds is refused exactly as for a malformed MAC
// (store.CreatePhone), so no tenant learns another's devices; the System Owner, who
// sees every tenant, moves a phone between tenants here.

type phoneMoveBody struct {
	Tenant string `json:"tenant"`
}

// movePhone: POST …/phones/{mac}/move {"tenant": "other"}: a system_owner who reaches
// both tenants (their own or ones they manage), not in a view-as session. A target
// tenant the caller cannot reach answers as one that does not exist. One transaction:
// the phone leaves {slug} and joins the other tenant, audited in both. The old tenant
// saw the phone's own passwords, so it joins with new ones: its web-admin password and
// its provisioning credentials, shown once in the answer (as when a phone is added).
func (a *API) movePhone(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	c := r.caller
	if c.viewAs || c.user.Role != store.RoleSystemOwner {
		return nil, forbidden("moving a phone between tenants needs the system_owner role (not in a view-as session)")
	}
	mac, err := r.mac()
	if err != nil {
		return nil, err
	}
	var in phoneMoveBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if _, ok := c.scopeIn(in.Tenant); !ok || !store.ValidSlug(in.Tenant) {
		return nil, badRequest("tenant", "no such tenant")
	}
	var v phoneView
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.TenantPhone(sc.tenant, mac)
		if err != nil {
			return err
		}
		moved, err := tx.MovePhone(mac, sc.tenant, in.Tenant)
		if err != nil {
			return err
		}
		before, _ := a.phoneView(prev, false)
		after, _ := a.phoneView(moved, false)
		if err := r.audit(tx, sc.tenant, "phone.move_out", "phone/"+moved.MAC, prev.UserID, before, map[string]string{"tenant": in.Tenant}); err != nil {
			return err
		}
		if err := r.audit(tx, in.Tenant, "phone.move_in", "phone/"+moved.MAC, "", map[string]string{"tenant": sc.tenant}, after); err != nil {
			return err
		}
		if v, err = a.phoneView(moved, true); err != nil {
			return err
		}
		pw, _, err := a.st.ProvisioningPasswords(moved)
		v.ProvisioningCredentials = &provisioningCredentials{Username: moved.MAC, Password: pw}
		return err
	})
	return v, err
}
