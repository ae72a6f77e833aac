package admin

import "github.com/dialtone/dialtone/store"

// deletePreview: GET …/users/{id}/delete-preview tells what DELETE …/users/{id} would
// take with the user (extensions and external numbers freed, phones left without a user,
// the photo, sessions, SIP registrations, flex logins, queued mails), changing nothing,
// with the same checks as the delete, so the console can list it in its confirmation.
func (a *API) deletePreview(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	var p store.DeletePreview
	err = a.view(func(tx *store.Tx) error {
		u, err := managedUser(tx, r, sc)
		if err != nil {
			return err
		}
		if err := mayDelete(tx, sc, u); err != nil {
			return err
		}
		p, err = tx.UserDeletePreview(sc.tenant, u.ID)
		return err
	})
	return p, err
}

// mayDelete is the rule of DELETE …/users/{id}: not oneself, not above one's own
// rank, not the last system_owner.
func mayDelete(tx *store.Tx, sc *scope, u store.User) error {
	if u.ID == sc.self.ID && u.Tenant == sc.self.Tenant {
		return forbidden("you cannot delete your own account")
	}
	if u.Role.Rank() > sc.rank {
		return forbidden("you cannot delete a user whose role is above yours")
	}
	return lastOwnerGuard(tx, u, "")
}
