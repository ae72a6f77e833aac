package admin

import (
	"time"

	"github.com/dialtone/dialtone/store"
)

// Vendor CAs for device certificates (tenant device_auth). Trusting a CA decides who
// gets a phone's secrets, like device_auth itself, so adding and removing one needs
// tenant.settings; listing them needs tenant.settings or phones.manage.

// MaxDeviceCABody bounds a POST …/trust/device-cas body (PEM).
const MaxDeviceCABody = 256 << 10

// deviceCAView is a trusted CA as listed (the PEM stays in the store).
type deviceCAView struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject"`
	SHA256    string    `json:"sha256"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Added     time.Time `json:"added"`
}

func viewDeviceCA(c store.DeviceCA) deviceCAView {
	return deviceCAView{ID: c.ID, Subject: c.Subject, SHA256: c.SHA256, NotBefore: c.NotBefore, NotAfter: c.NotAfter, Added: c.Added}
}

// addDeviceCAs: POST …/trust/device-cas with one or more PEM CA certificates as the
// body (tenant.settings); all are stored or none, each checked by store.ParseDeviceCAs.
func (a *API) addDeviceCAs(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	out := []deviceCAView{}
	err = a.update(func(tx *store.Tx) error {
		out = out[:0]
		cas, err := tx.AddDeviceCAs(sc.tenant, r.ctx.Request.Body())
		if err != nil {
			return err
		}
		for _, c := range cas {
			v := viewDeviceCA(c)
			out = append(out, v)
			if err := r.audit(tx, sc.tenant, "device_ca.add", "device_ca/"+c.ID, "", nil, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.status = 201
	return page[deviceCAView]{Items: out}, nil
}

// listDeviceCAs: GET …/trust/device-cas (tenant.settings or phones.manage).
func (a *API) listDeviceCAs(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	if !isTenantAdmin(sc) {
		return nil, forbidden("you lack the permission " + string(store.PermTenantSettings) + " or " + string(store.PermPhonesManage))
	}
	cas, err := a.st.DeviceCAs(sc.tenant)
	if err != nil {
		return nil, err
	}
	out := make([]deviceCAView, 0, len(cas))
	for _, c := range cas {
		out = append(out, viewDeviceCA(c))
	}
	return page[deviceCAView]{Items: out}, nil
}

// deleteDeviceCA: DELETE …/trust/device-cas/{id} (tenant.settings); 409 for the last one
// while device_auth is prefer or require.
func (a *API) deleteDeviceCA(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		c, err := tx.DeleteDeviceCA(sc.tenant, r.param("id"))
		if err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "device_ca.delete", "device_ca/"+c.ID, "", viewDeviceCA(c), nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}
