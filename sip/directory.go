package sip

import (
	"github.com/dialtone/dialtone/store"
)

// StoreDirectory is the Directory over the real store.
type StoreDirectory struct{ S *store.Store }

func (d StoreDirectory) TenantByDomain(domain string) (store.Tenant, error) {
	return d.S.TenantBySIPDomain(domain)
}

func (d StoreDirectory) Tenant(slug string) (store.Tenant, error) { return d.S.Tenant(slug) }

func (d StoreDirectory) Account(username string) (Account, error) {
	a, err := d.S.SIPAccount(username)
	if err != nil {
		return Account{}, err
	}
	pw, err := d.S.OpenSecret(a.Password)
	if err != nil {
		return Account{}, err
	}
	return Account{Tenant: a.Tenant, Username: a.Username, Password: pw, Extension: a.Extension,
		UserID: a.UserID, GuestMAC: a.GuestMAC}, nil
}

// Phone gives the phone and the SIP accounts it registers: its guest account when flex,
// and the extensions of the user it is assigned to (or logged in as).
func (d StoreDirectory) Phone(mac string) (store.Phone, []string, error) {
	var (
		p     store.Phone
		names []string
	)
	err := d.S.View(func(tx *store.Tx) error {
		var err error
		if p, err = tx.Phone(mac); err != nil {
			return err
		}
		if p.GuestUsername != "" {
			names = append(names, p.GuestUsername)
		}
		uid := p.UserID
		if p.Flex {
			// The flex desk keeps who is logged in as a session, not on the phone.
			if s, err := tx.Flex(p.Tenant, p.MAC); err == nil && s.UserID != "" {
				uid = s.UserID
			}
		}
		if uid == "" {
			return nil
		}
		u, err := tx.User(p.Tenant, uid)
		if err != nil {
			return nil // the user is gone: only the guest account remains
		}
		for _, n := range u.Extensions {
			if e, err := tx.Extension(p.Tenant, n); err == nil {
				names = append(names, e.SIPUsername)
			}
		}
		return nil
	})
	return p, names, err
}

// UserPhones gives the phones assigned to the user and the flex phones they are logged
// in at.
func (d StoreDirectory) UserPhones(tenant, userID string) (macs []string, err error) {
	err = d.S.View(func(tx *store.Tx) error {
		if macs, err = tx.UserPhones(tenant, userID); err != nil {
			return err
		}
		flex, err := tx.UserFlexPhones(tenant, userID)
		macs = append(macs, flex...)
		return err
	})
	return macs, err
}

func (d StoreDirectory) TenantPhones(tenant string) ([]string, error) {
	var macs []string
	err := d.S.View(func(tx *store.Tx) error {
		cursor := ""
		for {
			ps, err := tx.Phones(tenant, cursor, 500)
			if err != nil {
				return err
			}
			for _, p := range ps {
				macs = append(macs, p.MAC)
			}
			if len(ps) < 500 {
				return nil
			}
			cursor = ps[len(ps)-1].MAC
		}
	})
	return macs, err
}

func (d StoreDirectory) ModelProfiles(tenant string) (mps []store.ModelProfile, err error) {
	err = d.S.View(func(tx *store.Tx) error { mps, err = tx.ModelProfiles(tenant); return err })
	return mps, err
}
