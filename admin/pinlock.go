package admin

import (
	"fmt"

	"github.com/dialtone/dialtone/store"
)

// PINs: the tenant's policy when one is set, and the flex lock of a user's extensions.

// pinChoice is a PIN being set: given by the caller, or generated (shown once).
type pinChoice struct{ set, generated string }

// newPIN checks a given PIN against the tenant's policy (store.CheckNewPIN), or generates
// one of the tenant's length when given is nil.
func newPIN(tx *store.Tx, tenant string, given *string, exts []string) (pinChoice, error) {
	t, err := tx.Tenant(tenant)
	if err != nil {
		return pinChoice{}, err
	}
	in := ""
	if given != nil {
		if *given == "" {
			return pinChoice{}, badRequest("pin", fmt.Sprintf("a PIN is %d to %d digits", store.MinPINLength, store.MaxPINLength))
		}
		in = *given
	}
	set, generated, err := store.NewPIN(t, in, exts)
	return pinChoice{set: set, generated: generated}, err
}

// unlockPIN lifts the flex lock of u's extensions (after wrong PINs from several phones)
// and audits it when there was one; how says why ("password login", "admin"). It
// answers the extensions unlocked.
func (a *API) unlockPIN(tx *store.Tx, r *request, u store.User, how string) ([]string, error) {
	lifted, err := tx.UnlockExtensions(u.Tenant, u.Extensions, a.st.Now())
	if err != nil || len(lifted) == 0 {
		return lifted, err
	}
	return lifted, r.audit(tx, u.Tenant, "flex.unlocked", "user/"+u.ID, u.ID, nil,
		map[string]any{"extensions": lifted, "how": how})
}

// clearPINLock: DELETE …/users/{id}/pin-lock (users.manage) lifts the flex lock of the
// user's extensions before it runs out, and forgets their wrong-PIN count.
func (a *API) clearPINLock(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	var lifted []string
	err = a.update(func(tx *store.Tx) error {
		u, err := managedUser(tx, r, sc)
		if err != nil {
			return err
		}
		lifted, err = a.unlockPIN(tx, r, u, "admin")
		return err
	})
	if err != nil {
		return nil, err
	}
	if lifted == nil {
		lifted = []string{}
	}
	return map[string]any{"id": r.param("id"), "unlocked": lifted}, nil
}

// patchPINPolicy applies pin_min_length and audit_retention_days from a tenant PATCH
// (checked by tx.SaveTenant). A 0 is refused here: it is how the store says "default".
func patchPINPolicy(t *store.Tenant, minLength, retentionDays *int) error {
	if minLength != nil {
		if *minLength == 0 {
			return badRequest("pin_min_length", fmt.Sprintf("a minimum PIN length is %d to %d digits", store.MinPINLength, store.MaxPINLength))
		}
		t.PINMinLength = *minLength
	}
	if retentionDays != nil {
		if *retentionDays <= 0 {
			return badRequest("audit_retention_days", fmt.Sprintf("1 to %d days", store.MaxAuditRetentionDays))
		}
		t.AuditRetentionDays = *retentionDays
	}
	return nil
}
