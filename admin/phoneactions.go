package admin

import (
	"strings"

	"github.com/dialtone/dialtone/store"
)

// phoneActionBody is POST …/phones/actions: one action and exactly one selector.
type phoneActionBody struct {
	Action       string `json:"action"`
	MAC          string `json:"mac"`
	DepartmentID string `json:"department_id"`
	Model        string `json:"model"`
	All          bool   `json:"all"`
}

// startPhoneAction: POST …/phones/actions (phones.manage) resyncs or reboots one
// phone, a department's phones (those of its members), a model's phones or all of the
// tenant's, paced at the tenant's action_rate by the registrar. Audited once, with the
// count; 202 with the action's report (every phone queued).
func (a *API) startPhoneAction(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	var in phoneActionBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.Action != "resync" && in.Action != "reboot" {
		return nil, badRequest("action", `"resync" or "reboot"`)
	}
	selectors := 0
	for _, set := range []bool{in.MAC != "", in.DepartmentID != "", in.Model != "", in.All} {
		if set {
			selectors++
		}
	}
	if selectors != 1 {
		return nil, badRequest("mac", `name exactly one of "mac", "department_id", "model" or "all": true`)
	}
	if a.cfg.Actions == nil {
		return nil, unavailable("remote actions (SIP)")
	}
	var macs []string
	var rate int
	selector := map[string]any{}
	err = a.view(func(tx *store.Tx) error {
		t, err := tx.Tenant(sc.tenant)
		if err != nil {
			return err
		}
		rate = t.ActionPace()
		if in.MAC != "" {
			mac, ok := store.NormalizeMAC(in.MAC)
			if !ok {
				return badRequest("mac", "not a MAC address")
			}
			p, err := tx.TenantPhone(sc.tenant, mac)
			if err != nil {
				return err
			}
			selector["mac"] = p.MAC
			macs = []string{p.MAC}
			return nil
		}
		if in.DepartmentID != "" {
			if _, err := tx.Department(sc.tenant, in.DepartmentID); err != nil {
				return err
			}
			selector["department_id"] = in.DepartmentID
		}
		if in.Model != "" {
			selector["model"] = in.Model
		}
		if in.All {
			selector["all"] = true
		}
		phones, err := tx.Phones(sc.tenant, "", 0)
		if err != nil {
			return err
		}
		inDept := map[string]bool{} // user id → member of the department
		for _, p := range phones {
			switch {
			case in.Model != "" && !strings.EqualFold(p.Model, in.Model):
				continue
			case in.DepartmentID != "":
				if p.UserID == "" {
					continue
				}
				member, seen := inDept[p.UserID]
				if !seen {
					u, err := tx.User(sc.tenant, p.UserID)
					member = err == nil && u.DepartmentID == in.DepartmentID
					inDept[p.UserID] = member
				}
				if !member {
					continue
				}
			}
			macs = append(macs, p.MAC)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep, err := a.cfg.Actions.StartAction(sc.tenant, in.Action, macs, rate)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		return r.audit(tx, sc.tenant, "phone."+in.Action, "phones", "", nil,
			map[string]any{"selector": selector, "count": len(macs), "rate": rate})
	})
	if err != nil {
		return nil, err
	}
	r.status = 202
	return rep, nil
}

// phoneAction: GET …/phones/actions/{id} (phones.manage): the result per phone.
func (a *API) phoneAction(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermPhonesManage)
	if err != nil {
		return nil, err
	}
	if a.cfg.Actions == nil {
		return nil, unavailable("remote actions (SIP)")
	}
	rep, ok := a.cfg.Actions.PhoneAction(sc.tenant, r.param("id"))
	if !ok {
		return nil, notFound("no such action (the last 32 of the tenant are kept, until a restart)")
	}
	return rep, nil
}
