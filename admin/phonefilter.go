package admin

import (
	"github.com/dialtone/dialtone/store"
)

// Filters the console's assignment pickers use: a user's phones, the unassigned ones,
// the free extensions.

// phoneFilter reads ?user_id= (the phones of one user, through the store's index) and
// ?unassigned=true (phones without a user) for GET …/phones.
func phoneFilter(r *request) (keep func(store.Phone) bool, batchOf func(tx *store.Tx, slug, cursor string, n int) ([]store.Phone, error)) {
	args := r.ctx.QueryArgs()
	uid := string(args.Peek("user_id"))
	unassigned := string(args.Peek("unassigned")) == "true"
	keep = func(p store.Phone) bool { return !unassigned || p.UserID == "" }
	batchOf = func(tx *store.Tx, slug, cursor string, n int) ([]store.Phone, error) {
		return tx.Phones(slug, cursor, n)
	}
	if uid == "" {
		return keep, batchOf
	}
	keep = func(p store.Phone) bool { return p.UserID == uid && !unassigned }
	batchOf = func(tx *store.Tx, slug, cursor string, n int) ([]store.Phone, error) {
		macs, err := tx.UserPhones(slug, uid)
		if err != nil {
			return nil, err
		}
		var out []store.Phone
		for _, m := range macs {
			if m <= cursor || len(out) == n {
				continue
			}
			p, err := tx.TenantPhone(slug, m)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	}
	return keep, batchOf
}

// freeExtensions answers GET …/extensions?free=true: numbers of the tenant's range that
// no one holds, for assigning (users.manage).
func (a *API) freeExtensions(sc *scope, limit int, cursor string) (any, error) {
	if err := sc.need(store.PermUsersManage); err != nil {
		return nil, err
	}
	var nums []string
	err := a.view(func(tx *store.Tx) (err error) {
		nums, err = tx.FreeExtensions(sc.tenant, cursor, limit+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]extensionView, len(nums))
	for i, n := range nums {
		out[i] = extensionView{Number: n}
	}
	return paginate(out, limit, func(v extensionView) string { return v.Number }), nil
}
