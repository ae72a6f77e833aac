package admin

import (
	"errors"
	"slices"
	"time"

	"github.com/dialtone/dialtone/store"
)

// myPhoneView is a phone as its user sees it in self-service: no settings, no secrets.
type myPhoneView struct {
	MAC      string         `json:"mac"`
	Make     string         `json:"make,omitempty"`
	Model    string         `json:"model,omitempty"`
	Flex     bool           `json:"flex"`
	Assigned bool           `json:"assigned"` // assigned to me (else a flex phone I am logged in at)
	LastSeen *time.Time     `json:"last_seen,omitempty"`
	LoggedIn *flexLoginView `json:"logged_in,omitempty"`
}

// myPhones: GET /api/v1/me/phones (self.manage): the phones assigned to me and the flex
// phones I am logged in at, with who is logged in at each flex phone.
func (a *API) myPhones(r *request) (any, error) {
	sc := r.caller.home()
	if err := sc.need(store.PermSelfManage); err != nil {
		return nil, err
	}
	me := r.caller.user
	out := []myPhoneView{}
	err := a.view(func(tx *store.Tx) error {
		own, err := tx.UserPhones(me.Tenant, me.ID)
		if err != nil {
			return err
		}
		flex, err := tx.UserFlexPhones(me.Tenant, me.ID)
		if err != nil {
			return err
		}
		for _, mac := range append(own, flex...) {
			if slices.ContainsFunc(out, func(v myPhoneView) bool { return v.MAC == mac }) {
				continue
			}
			p, err := tx.TenantPhone(me.Tenant, mac)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			v := phoneView{}
			if err := withFlexLogin(tx, p, &v); err != nil {
				return err
			}
			mv := myPhoneView{MAC: p.MAC, Make: p.Make, Model: p.Model, Flex: p.Flex,
				Assigned: p.UserID == me.ID, LoggedIn: v.LoggedIn}
			if !p.LastSeen.IsZero() {
				t := p.LastSeen
				mv.LastSeen = &t
			}
			out = append(out, mv)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"items": out, "next_cursor": ""}, nil
}

// myFlexLogout: POST /api/v1/me/flex-logout (self.manage) logs me out of every flex
// phone I am logged in at, as an admin's logout of each would; 200 with the MACs (none
// when I was logged in nowhere).
func (a *API) myFlexLogout(r *request) (any, error) {
	sc := r.caller.home()
	if err := sc.need(store.PermSelfManage); err != nil {
		return nil, err
	}
	me := r.caller.user
	var macs []string
	if err := a.view(func(tx *store.Tx) (err error) { macs, err = tx.UserFlexPhones(me.Tenant, me.ID); return err }); err != nil {
		return nil, err
	}
	if len(macs) > 0 && a.cfg.Flex == nil {
		return nil, unavailable("flex logout (SIP)")
	}
	out := []string{}
	for _, mac := range macs {
		ctx, cancel := opContext()
		err := a.cfg.Flex.Logout(ctx, me.Tenant, mac)
		cancel()
		if err != nil {
			return nil, err
		}
		err = a.update(func(tx *store.Tx) error {
			return r.audit(tx, me.Tenant, "phone.flex_logout", "phone/"+mac, me.ID, nil, nil)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, mac)
	}
	return map[string]any{"logged_out": out}, nil
}
