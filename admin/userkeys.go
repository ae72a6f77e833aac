package admin

import (
	"github.com/dialtone/dialtone/store"
)

// keysTarget loads the user of {id} and checks that the caller may see or change their
// phone keys: self.manage (or users.manage) for their own, users.manage over anyone else.
func keysTarget(tx *store.Tx, r *request, sc *scope) (store.User, error) {
	u, err := tx.User(sc.tenant, r.param("id"))
	if err != nil {
		return u, err
	}
	if u.ID == sc.self.ID && u.Tenant == sc.self.Tenant && sc.can(store.PermSelfManage) {
		return u, nil
	}
	return u, sc.needOn(store.PermUsersManage, u)
}

func keysOf(u store.User) []store.PhoneKey {
	if u.Keys == nil {
		return []store.PhoneKey{}
	}
	return u.Keys
}

// getUserKeys: GET …/users/{id}/keys: the user's BLF and speed-dial keys, in order.
func (a *API) getUserKeys(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var u store.User
	err = a.view(func(tx *store.Tx) (err error) { u, err = keysTarget(tx, r, sc); return err })
	if err != nil {
		return nil, err
	}
	return keysOf(u), nil
}

// putUserKeys: PUT …/users/{id}/keys [{"type":"blf"|"speed_dial","value","label"}]
// replaces the keys placed after the line keys on every phone of the user (and on a
// flex phone while they are logged in there); the phones re-provision. A BLF key must
// watch an extension of the tenant; at most store.MaxUserKeys keys.
func (a *API) putUserKeys(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var in []store.PhoneKey
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if len(in) > store.MaxUserKeys {
		return nil, badRequest("keys", "at most 60 keys")
	}
	var saved store.User
	err = a.update(func(tx *store.Tx) error {
		u, err := keysTarget(tx, r, sc)
		if err != nil {
			return err
		}
		if saved, err = tx.SetUserKeys(sc.tenant, u.ID, in); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "user.keys", "user/"+u.ID, u.ID, map[string]any{"keys": keysOf(u)}, map[string]any{"keys": keysOf(saved)})
	})
	if err != nil {
		return nil, err
	}
	return keysOf(saved), nil
}
