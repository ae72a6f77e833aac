package admin

import (
	"bytes"
	"testing"

	"github.com/dialtone/dialtone/store"
)

// A tenant's admin claiming a MAC another tenant holds gets the very answer a
// malformed MAC gets — status and body — so the claim tells nothing of the other
// tenant; a MAC nobody holds is added.
func TestClaimOfAnotherTenantsMACLeaksNothing(t *testing.T) {
	e := newEnv(t)
	owner := e.adminToken()
	for _, slug := range []string{"acme", "beta"} {
		e.must(201, owner, "POST", "/api/v1/tenants", map[string]string{"slug": slug, "name": slug, "sip_domain": slug + ".example"})
	}
	const held = "001565aa0001"
	if err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.CreatePhone(store.Phone{MAC: held, Tenant: "beta", Model: "T46U"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tok := e.session(e.user("acme", store.RoleSystemAdmin, "")) // phones.manage in acme
	claim := e.do(tok, "POST", "/api/v1/tenants/acme/phones", map[string]any{"mac": "00:15:65:AA:00:01"})
	bad := e.do(tok, "POST", "/api/v1/tenants/acme/phones", map[string]any{"mac": "not-a-mac"})
	if claim.status != bad.status || !bytes.Equal(claim.body, bad.body) {
		t.Fatalf("another tenant's MAC: %d %s\nmalformed MAC: %d %s", claim.status, claim.body, bad.status, bad.body)
	}
	if claim.status != 400 || claim.errField() != "mac" {
		t.Fatalf("claim answered %d %s, want 400 on field mac", claim.status, claim.body)
	}
	e.must(201, tok, "POST", "/api/v1/tenants/acme/phones", map[string]any{"mac": "001565aa0002"})
	if p, _ := e.st.Phone(held); p.Tenant != "beta" {
		t.Fatalf("the refused claim moved the phone to %q", p.Tenant)
	}
}

// The System Owner moves a phone between tenants in one step: it leaves its user
// behind, shows in the new tenant only, and the move is audited in both tenants.
// Nobody else may move one, and a move to a tenant that does not exist changes nothing.
func TestSystemOwnerMovesPhone(t *testing.T) {
	e := newEnv(t)
	owner := e.adminToken() // system_owner of tenant default; creating a tenant makes them manage it
	for _, slug := range []string{"acme", "beta", "gamma"} {
		e.must(201, owner, "POST", "/api/v1/tenants", map[string]string{"slug": slug, "name": slug, "sip_domain": slug + ".example"})
	}
	u := e.user("beta", store.RoleUser, "")
	const mac = "001565aa0003"
	if err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.CreatePhone(store.Phone{MAC: mac, Tenant: "beta", Model: "T46U", UserID: u.ID, Flex: true,
			Settings: map[string]string{"features.x": "1"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	path := "/api/v1/tenants/beta/phones/" + mac + "/move"
	betaAdmin := e.session(e.user("beta", store.RoleSystemAdmin, "", func(n *store.NewUser) { n.ManagedTenants = []string{"acme"} }))
	if a := e.do(betaAdmin, "POST", path, map[string]string{"tenant": "acme"}); a.status != 403 {
		t.Fatalf("a system_admin of both tenants moved a phone: %d %s", a.status, a.body)
	}
	betaOwner := e.session(e.user("beta", store.RoleSystemOwner, ""))
	missing := e.do(owner, "POST", path, map[string]string{"tenant": "nosuch"})
	if missing.status != 400 || missing.errField() != "tenant" {
		t.Fatalf("move to a missing tenant: %d %s", missing.status, missing.body)
	}
	// beta's own system_owner does not reach gamma: answered as for a missing tenant.
	if a := e.do(betaOwner, "POST", path, map[string]string{"tenant": "gamma"}); a.status != missing.status || !bytes.Equal(a.body, missing.body) {
		t.Fatalf("move to a tenant out of reach: %d %s", a.status, a.body)
	}
	if p, _ := e.st.Phone(mac); p.Tenant != "beta" || p.UserID != u.ID {
		t.Fatalf("a refused move changed the phone: %+v", p)
	}
	seen := e.must(200, owner, "GET", "/api/v1/tenants/beta/phones/"+mac, nil).json(t) // what beta's admins saw
	oldProv, _, err := e.st.ProvisioningPasswords(func() store.Phone { p, _ := e.st.Phone(mac); return p }())
	if err != nil || oldProv == "" || seen["admin_password"] == nil {
		t.Fatalf("before the move: provisioning password %q (%v), view %v", oldProv, err, seen)
	}
	moved := e.must(200, owner, "POST", path, map[string]string{"tenant": "acme"}).json(t)
	if moved["tenant"] != "acme" || moved["user_id"] != nil && moved["user_id"] != "" {
		t.Fatalf("moved phone %v", moved)
	}
	// the phone's own passwords, known in beta, do not follow it into acme
	creds, _ := moved["provisioning_credentials"].(map[string]any)
	if moved["admin_password"] == nil || moved["admin_password"] == seen["admin_password"] ||
		creds == nil || creds["username"] != mac || creds["password"] == nil || creds["password"] == oldProv {
		t.Fatalf("moved phone's own passwords: admin %v (was %v), provisioning %v (was %q)",
			moved["admin_password"], seen["admin_password"], creds, oldProv)
	}
	p, err := e.st.Phone(mac)
	if err != nil || p.Tenant != "acme" || p.UserID != "" || !p.Flex || p.Settings["features.x"] != "1" || p.Model != "T46U" ||
		!p.ProvisioningIssued.IsZero() || !p.ProvisioningAuthenticated.IsZero() || p.ProvisioningPrevious != "" {
		t.Fatalf("stored after the move: %+v %v", p, err)
	}
	e.must(404, owner, "GET", "/api/v1/tenants/beta/phones/"+mac, nil)
	e.must(200, owner, "GET", "/api/v1/tenants/acme/phones/"+mac, nil)
	if macs, _ := userPhones(e, "beta", u.ID); len(macs) != 0 {
		t.Fatalf("the old tenant's user still has the phone: %v", macs)
	}
	audited := func(slug, action string) bool {
		for _, ev := range e.auditEvents(slug) {
			if ev.Action == action && ev.Object == "phone/"+mac {
				return true
			}
		}
		return false
	}
	if !audited("beta", "phone.move_out") || !audited("acme", "phone.move_in") {
		t.Fatal("the move is not audited in both tenants")
	}
	// Back again: the MAC is free in beta now, and beta can no longer see it.
	e.must(200, owner, "POST", "/api/v1/tenants/acme/phones/"+mac+"/move", map[string]string{"tenant": "beta"})
}

func userPhones(e *env, slug, uid string) (macs []string, err error) {
	err = e.st.View(func(tx *store.Tx) error { macs, err = tx.UserPhones(slug, uid); return err })
	return macs, err
}
