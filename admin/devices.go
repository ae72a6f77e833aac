package admin

import (
	"context"
	"slices"
	"time"

	"github.com/dialtone/dialtone/store"
)

// extensionView is an extension; the SIP credentials only for who may manage its user
// (users.manage in scope) or the phones (phones.manage).
type extensionView struct {
	Number      string `json:"number"`
	UserID      string `json:"user_id,omitempty"`
	SIPUsername string `json:"sip_username,omitempty"`
	SIPPassword string `json:"sip_password,omitempty"`
}

// listExtensions: GET …/extensions (directory.read; credentials as above); with
// ?free=true the numbers of the tenant's range no one holds (phonefilter.go).
func (a *API) listExtensions(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermDirectoryRead)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	if string(r.ctx.QueryArgs().Peek("free")) == "true" {
		return a.freeExtensions(sc, limit, cursor)
	}
	var out []extensionView
	err = a.view(func(tx *store.Tx) error {
		exts, err := tx.Extensions(sc.tenant, cursor, limit+1)
		if err != nil {
			return err
		}
		owners := map[string]bool{}
		for _, e := range exts {
			v := extensionView{Number: e.Number, UserID: e.UserID}
			show := sc.can(store.PermPhonesManage)
			if !show && e.UserID != "" && sc.can(store.PermUsersManage) {
				ok, seen := owners[e.UserID]
				if !seen {
					u, err := tx.User(sc.tenant, e.UserID)
					ok = err == nil && sc.inScope(u)
					owners[e.UserID] = ok
				}
				show = ok
			}
			if show {
				pw, err := a.st.SIPPassword(e)
				if err != nil {
					return err
				}
				v.SIPUsername, v.SIPPassword = e.SIPUsername, pw
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(v extensionView) string { return v.Number }), nil
}

// regenerateSIP: POST …/users/{id}/sip-credentials gives every extension of the user a
// new SIP user name and password (users.manage over the user); the phones re-provision
// through the store's change events.
func (a *API) regenerateSIP(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var out []extensionView
	err = a.update(func(tx *store.Tx) error {
		u, err := managedUser(tx, r, sc)
		if err != nil {
			return err
		}
		// The answer shows the new SIP passwords: the same rule as a password reset.
		if err := r.caller.mayTouchCredentials(sc, u); err != nil {
			return err
		}
		for _, n := range u.Extensions {
			e, err := tx.RegenerateSIP(sc.tenant, n)
			if err != nil {
				return err
			}
			pw, err := a.st.SIPPassword(e)
			if err != nil {
				return err
			}
			out = append(out, extensionView{Number: e.Number, UserID: e.UserID, SIPUsername: e.SIPUsername, SIPPassword: pw})
		}
		return r.audit(tx, sc.tenant, "user.sip_regenerate", "user/"+u.ID, u.ID, nil,
			map[string]any{"extensions": u.Extensions, "secrets_changed": []string{"sip_password"}})
	})
	if err != nil {
		return nil, err
	}
	return page[extensionView]{Items: append([]extensionView{}, out...)}, nil
}

// phoneInTenant checks that mac names a phone of the tenant.
func (a *API) phoneInTenant(r *request, sc *scope) (store.Phone, error) {
	mac, err := r.mac()
	if err != nil {
		return store.Phone{}, err
	}
	var p store.Phone
	err = a.view(func(tx *store.Tx) (err error) { p, err = tx.TenantPhone(sc.tenant, mac); return err })
	return p, err
}

func opContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// resyncPhone: POST …/phones/{mac}/resync (phones.manage).
func (a *API) resyncPhone(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	p, err := a.phoneInTenant(r, sc)
	if err != nil {
		return nil, err
	}
	if a.cfg.Resyncer == nil {
		return nil, unavailable("resync (SIP)")
	}
	ctx, cancel := opContext()
	defer cancel()
	if err := a.cfg.Resyncer.Resync(ctx, p.MAC); err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		return r.audit(tx, sc.tenant, "phone.resync", "phone/"+p.MAC, p.UserID, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 202
	return map[string]string{"mac": p.MAC, "status": "check-sync sent"}, nil
}

type flexBody struct {
	Extension string `json:"extension"`
	PIN       string `json:"pin"`
}

// flexLogin: POST …/phones/{mac}/login {"extension","pin"}: phones.manage, or a user
// logging in with one of their own extensions (self.manage). The PIN is checked by the
// flex desk either way.
func (a *API) flexLogin(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var in flexBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if !store.ValidExtension(in.Extension) {
		return nil, badRequest("extension", "not an extension (2 to 8 digits)")
	}
	if !store.ValidPIN(in.PIN) {
		return nil, badRequest("pin", "a PIN is 4 to 12 digits")
	}
	own := sc.can(store.PermSelfManage) && sc.self.Tenant == sc.tenant && slices.Contains(sc.self.Extensions, in.Extension)
	if !own && !sc.can(store.PermPhonesManage) {
		return nil, forbidden("flex login of another user's extension needs phones.manage")
	}
	p, err := a.phoneInTenant(r, sc)
	if err != nil {
		return nil, err
	}
	if !p.Flex {
		return nil, problem(422, "unprocessable", "mac", "this phone is not a flex phone")
	}
	if a.cfg.Flex == nil {
		return nil, unavailable("flex login (SIP)")
	}
	ctx, cancel := opContext()
	defer cancel()
	if err := a.cfg.Flex.Login(ctx, sc.tenant, p.MAC, in.Extension, in.PIN, r.source); err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		return r.audit(tx, sc.tenant, "phone.flex_login", "phone/"+p.MAC, "", nil, map[string]string{"extension": in.Extension})
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"mac": p.MAC, "extension": in.Extension, "status": "logged in"}, nil
}

// flexLogout: POST …/phones/{mac}/logout (phones.manage or users.manage).
func (a *API) flexLogout(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if !sc.can(store.PermPhonesManage) && !sc.can(store.PermUsersManage) {
		return nil, forbidden("flex logout needs phones.manage or users.manage")
	}
	p, err := a.phoneInTenant(r, sc)
	if err != nil {
		return nil, err
	}
	if a.cfg.Flex == nil {
		return nil, unavailable("flex logout (SIP)")
	}
	ctx, cancel := opContext()
	defer cancel()
	if err := a.cfg.Flex.Logout(ctx, sc.tenant, p.MAC); err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		return r.audit(tx, sc.tenant, "phone.flex_logout", "phone/"+p.MAC, "", nil, nil)
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"mac": p.MAC, "status": "logged out"}, nil
}

// registrations: GET …/registrations (phones.manage or reports.read).
func (a *API) registrations(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if !sc.can(store.PermPhonesManage) && !sc.can(store.PermReportsRead) {
		return nil, forbidden("registrations need phones.manage or reports.read")
	}
	if a.cfg.Registrations == nil {
		return nil, unavailable("the registrar")
	}
	return map[string]any{"items": a.cfg.Registrations.Registrations(sc.tenant), "next_cursor": ""}, nil
}

// outbox: GET …/outbox (users.manage over the tenant, or tenant.settings).
func (a *API) outbox(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if !(sc.wide && sc.can(store.PermUsersManage)) && !sc.can(store.PermTenantSettings) {
		return nil, forbidden("the outbox needs users.manage over the tenant or tenant.settings")
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	if a.cfg.Outbox == nil {
		return nil, unavailable("mail")
	}
	items, next, err := a.cfg.Outbox.Outbox(sc.tenant, cursor, limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"items": items, "next_cursor": next}, nil
}
