package admin

import (
	"cmp"
	"errors"
	"maps"
	"time"

	"github.com/dialtone/dialtone/store"
)

type guestView struct {
	SIPUsername string `json:"sip_username"`
	SIPPassword string `json:"sip_password"`
}

// phoneView is a phone as the API shows it: the MAC as 12 lower-case hex digits; the
// guest account of a flex phone only to phones.manage holders.
type phoneView struct {
	MAC    string     `json:"mac"`
	Tenant string     `json:"tenant"`
	Make   string     `json:"make,omitempty"`
	Model  string     `json:"model,omitempty"`
	UserID string     `json:"user_id,omitempty"`
	Flex   bool       `json:"flex"`
	Guest  *guestView `json:"guest,omitempty"`
	// AdminPassword is the phone's own web admin password (phones.manage).
	AdminPassword string `json:"admin_password,omitempty"`
	// ProvisioningCredentials are shown once: when the phone is added and when they are
	// rotated.
	ProvisioningCredentials *provisioningCredentials `json:"provisioning_credentials,omitempty"`
	Settings                map[string]string        `json:"settings,omitempty"`
	EmergencyCallerID       string                   `json:"emergency_caller_id,omitempty"`
	LastSeen                *time.Time               `json:"last_seen,omitempty"`
	LastAddr                string                   `json:"last_addr,omitempty"`
	UserAgent               string                   `json:"user_agent,omitempty"`
	Firmware                string                   `json:"firmware,omitempty"`
	Created                 time.Time                `json:"created"`
	// LoggedIn is who is flex-logged-in at the phone, since and until when (absent:
	// nobody; until absent: no auto-logout).
	LoggedIn *flexLoginView `json:"logged_in,omitempty"`
}

// provisioningCredentials are a phone's HTTP Digest credentials for its own files.
type provisioningCredentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type flexLoginView struct {
	UserID    string     `json:"user_id"`
	Extension string     `json:"extension"`
	Since     time.Time  `json:"since"`
	Until     *time.Time `json:"until,omitempty"`
	How       string     `json:"how"`
	By        string     `json:"by,omitempty"`
}

// withFlexLogin adds who is logged in at a flex phone: one keyed read.
func withFlexLogin(tx *store.Tx, p store.Phone, v *phoneView) error {
	if !p.Flex {
		return nil
	}
	s, err := tx.Flex(p.Tenant, p.MAC)
	if errors.Is(err, store.ErrNotFound) || (err == nil && s.UserID == "") {
		return nil
	}
	if err != nil {
		return err
	}
	v.LoggedIn = &flexLoginView{UserID: s.UserID, Extension: s.Extension, Since: s.Since, How: s.How, By: s.By}
	if !s.Until.IsZero() {
		u := s.Until
		v.LoggedIn.Until = &u
	}
	return nil
}

func (a *API) phoneView(p store.Phone, secrets bool) (phoneView, error) {
	v := phoneView{MAC: p.MAC, Tenant: p.Tenant, Make: p.Make, Model: p.Model, UserID: p.UserID,
		Flex: p.Flex, Settings: p.Settings, LastAddr: p.LastAddr, UserAgent: p.UserAgent,
		Firmware: p.Firmware, Created: p.Created, EmergencyCallerID: p.EmergencyCallerID}
	if !p.LastSeen.IsZero() {
		t := p.LastSeen
		v.LastSeen = &t
	}
	if secrets {
		t, err := a.st.Tenant(p.Tenant)
		if err != nil {
			return v, err
		}
		if v.AdminPassword, err = a.st.PhoneAdminPassword(t, p); err != nil {
			return v, err
		}
	}
	if secrets && p.GuestUsername != "" {
		pw, err := a.st.GuestPassword(p)
		if err != nil {
			return v, err
		}
		v.Guest = &guestView{SIPUsername: p.GuestUsername, SIPPassword: pw}
	}
	return v, nil
}

// phoneReach says whether the caller sees phone p: phones.manage sees every phone of
// the tenant; users.manage the phones of users in scope.
func phoneReach(tx *store.Tx, sc *scope, p store.Phone) bool {
	if sc.can(store.PermPhonesManage) {
		return true
	}
	if !sc.can(store.PermUsersManage) || p.UserID == "" {
		return false
	}
	u, err := tx.User(sc.tenant, p.UserID)
	return err == nil && sc.inScope(u)
}

func (r *request) mac() (string, error) {
	m, ok := store.NormalizeMAC(r.param("mac"))
	if !ok {
		return "", badRequest("mac", "not a MAC address (12 hex digits in any common notation)")
	}
	return m, nil
}

// phoneRoute resolves {slug} as tenantScope does (and, unless need is "", answers 403
// without that permission there), then {mac}.
func (r *request) phoneRoute(need store.Permission) (*scope, string, error) {
	sc, err := r.tenantScope()
	if err == nil && need != "" {
		err = sc.need(need)
	}
	if err != nil {
		return nil, "", err
	}
	mac, err := r.mac()
	if err != nil {
		return nil, "", err
	}
	return sc, mac, nil
}

// listPhones: GET …/phones (?user_id=, ?unassigned=true: phonefilter.go).
func (a *API) listPhones(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if !sc.can(store.PermPhonesManage) && !sc.can(store.PermUsersManage) {
		return nil, forbidden("listing phones needs phones.manage or users.manage")
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	keep, batchOf := phoneFilter(r)
	var out []phoneView
	err = a.view(func(tx *store.Tx) error {
		for len(out) <= limit {
			batch, err := batchOf(tx, sc.tenant, cursor, 500)
			if err != nil {
				return err
			}
			for _, p := range batch {
				if !keep(p) || !phoneReach(tx, sc, p) {
					continue
				}
				v, err := a.phoneView(p, sc.can(store.PermPhonesManage))
				if err == nil {
					err = withFlexLogin(tx, p, &v)
				}
				if err != nil {
					return err
				}
				if out = append(out, v); len(out) > limit {
					break
				}
			}
			if len(batch) < 500 {
				break
			}
			cursor = batch[len(batch)-1].MAC
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(v phoneView) string { return v.MAC }), nil
}

// getPhone: GET …/phones/{mac}.
func (a *API) getPhone(r *request) (any, error) {
	sc, mac, err := r.phoneRoute("")
	if err != nil {
		return nil, err
	}
	var v phoneView
	err = a.view(func(tx *store.Tx) error {
		p, err := tx.TenantPhone(sc.tenant, mac)
		if err != nil {
			return err
		}
		if !phoneReach(tx, sc, p) {
			return forbidden("this phone is not yours to see (phones.manage, or users.manage over its user)")
		}
		if v, err = a.phoneView(p, sc.can(store.PermPhonesManage)); err != nil {
			return err
		}
		return withFlexLogin(tx, p, &v)
	})
	return v, err
}

type phoneBody struct {
	MAC      string            `json:"mac"`
	Model    string            `json:"model"`
	UserID   string            `json:"user_id"`
	Flex     bool              `json:"flex"`
	Settings map[string]string `json:"settings"`
}

// createPhone: POST …/phones (phones.manage).
func (a *API) createPhone(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	var in phoneBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if err := checkPhoneSettings(in.Settings); err != nil {
		return nil, err
	}
	if err := a.checkSettingKeys("settings", in.Settings); err != nil {
		return nil, err
	}
	model, mk, err := a.checkPhoneModel(in.Model)
	if err != nil {
		return nil, err
	}
	var v phoneView
	err = a.update(func(tx *store.Tx) error {
		next := store.Phone{MAC: in.MAC, Tenant: sc.tenant, Make: mk, Model: model,
			UserID: in.UserID, Flex: in.Flex, Settings: in.Settings}
		if err := adoptDiscovered(tx, &next); err != nil {
			return err
		}
		if in.Model == "" && next.Model != "" { // claimed: the model the phone told us
			model, mk, err := a.checkPhoneModel(next.Model)
			if err != nil {
				return err
			}
			next.Model, next.Make = model, cmp.Or(mk, next.Make)
		}
		p, err := tx.CreatePhone(next)
		if err != nil {
			return err
		}
		if v, err = a.phoneView(p, true); err != nil {
			return err
		}
		audited, _ := a.phoneView(p, false)
		if err := r.audit(tx, sc.tenant, "phone.create", "phone/"+p.MAC, p.UserID, nil, audited); err != nil {
			return err
		}
		pw, _, err := a.st.ProvisioningPasswords(p)
		v.ProvisioningCredentials = &provisioningCredentials{Username: p.MAC, Password: pw}
		return err
	})
	if err != nil {
		return nil, err
	}
	r.status = 201
	return v, nil
}

type phonePatch struct {
	Model    *string            `json:"model"`
	UserID   *string            `json:"user_id"` // "" unassigns
	Flex     *bool              `json:"flex"`
	Settings *map[string]string `json:"settings"`
	// EmergencyCallerID is where the phone stands, for emergency calls (E.164, "" none).
	EmergencyCallerID *string `json:"emergency_caller_id"`
}

// patchPhone: PATCH …/phones/{mac}. phones.manage changes anything; users.manage may
// only assign the phone between users of its departments (and unassigned).
func (a *API) patchPhone(r *request) (any, error) {
	sc, mac, err := r.phoneRoute("")
	if err != nil {
		return nil, err
	}
	var in phonePatch
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	var patchMake string
	if in.Model != nil {
		model, mk, err := a.checkPhoneModel(*in.Model)
		if err != nil {
			return nil, err
		}
		in.Model, patchMake = &model, mk
	}
	var v phoneView
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.TenantPhone(sc.tenant, mac)
		if err != nil {
			return err
		}
		if !sc.can(store.PermPhonesManage) {
			if in.Model != nil || in.Flex != nil || in.Settings != nil || in.EmergencyCallerID != nil {
				return forbidden("changing a phone's model, flex mode, settings or emergency caller ID needs phones.manage")
			}
			if !sc.can(store.PermUsersManage) {
				return forbidden("assigning phones needs phones.manage or users.manage")
			}
			for _, id := range []string{prev.UserID, deref(in.UserID)} {
				if id == "" {
					continue
				}
				u, err := tx.User(sc.tenant, id)
				if err != nil {
					return badRequest("user_id", "no such user")
				}
				if !sc.inScope(u) {
					return forbiddenField("user_id", "users.manage reaches only users of your departments")
				}
			}
		}
		next := prev
		next.Settings = maps.Clone(prev.Settings)
		if in.Model != nil && *in.Model != prev.Model {
			next.Model, next.Make = *in.Model, patchMake
		}
		setString(&next.UserID, in.UserID)
		setString(&next.EmergencyCallerID, in.EmergencyCallerID) // checked by tx.SavePhone
		if in.Flex != nil {
			next.Flex = *in.Flex
		}
		if in.Settings != nil {
			if err := checkPhoneSettings(*in.Settings); err != nil {
				return err
			}
			if err := a.checkSettingKeys("settings", *in.Settings); err != nil {
				return err
			}
			next.Settings = *in.Settings
		}
		if err := tx.SavePhone(prev, next); err != nil {
			return err
		}
		saved, err := tx.Phone(mac)
		if err != nil {
			return err
		}
		before, _ := a.phoneView(prev, false)
		after, _ := a.phoneView(saved, false)
		if v, err = a.phoneView(saved, sc.can(store.PermPhonesManage)); err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "phone.update", "phone/"+mac, saved.UserID, before, after)
	})
	return v, err
}

// deletePhone: DELETE …/phones/{mac} (phones.manage).
func (a *API) deletePhone(r *request) (any, error) {
	sc, mac, err := r.phoneRoute(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		p, err := tx.DeletePhone(sc.tenant, mac)
		if err != nil {
			return err
		}
		before, _ := a.phoneView(p, false)
		return r.audit(tx, sc.tenant, "phone.delete", "phone/"+mac, p.UserID, before, nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// rotateProvisioningCredentials: POST …/phones/{mac}/provisioning-credentials
// (phones.manage). The new password is answered once; a phone that proved the old one
// fetches with it once more and receives the new one.
func (a *API) rotateProvisioningCredentials(r *request) (any, error) {
	sc, mac, err := r.phoneRoute(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	var v phoneView
	err = a.update(func(tx *store.Tx) error {
		p, pw, err := tx.RotateProvisioningPassword(sc.tenant, mac)
		if err != nil {
			return err
		}
		if v, err = a.phoneView(p, true); err != nil {
			return err
		}
		v.ProvisioningCredentials = &provisioningCredentials{Username: p.MAC, Password: pw}
		return r.audit(tx, sc.tenant, "phone.provisioning_credentials.rotate", "phone/"+mac, p.UserID, nil, nil)
	})
	return v, err
}

func checkPhoneSettings(m map[string]string) error {
	if len(m) > 500 {
		return badRequest("settings", "at most 500 settings per phone")
	}
	for k, v := range m {
		if k == "" || len(k) > 128 || len(v) > 1024 || hasControl(k) || hasControl(v) {
			return badRequest("settings", "setting "+k+" has an empty or too long name or value, or control characters")
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
