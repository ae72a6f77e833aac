package store

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

func phoneKey(mac string) string                { return "phone/" + mac }
func tenantPhoneKey(slug, mac string) string    { return "t/" + slug + "/phone/" + mac }
func userPhoneKey(slug, uid, mac string) string { return "t/" + slug + "/userphone/" + uid + "/" + mac }

// guestRef is the idx/sipuser value of a flex phone's guest account.
func guestRef(slug, mac string) string { return slug + "/@" + mac }

// unclaimable is the one answer for a MAC a tenant cannot add: a malformed one and
// another tenant's phone are refused alike, so no tenant learns which MACs another holds.
func unclaimable() error {
	return invalid("mac", "not a MAC address this tenant can add: 12 hex digits, not a phone of another tenant (a system owner can move one)")
}

// CreatePhone adds a phone to a tenant. The MAC is normalised; a flex phone gets its guest
// SIP account.
func (tx *Tx) CreatePhone(p Phone) (Phone, error) {
	mac, ok := NormalizeMAC(p.MAC)
	if !ok {
		return p, unclaimable()
	}
	p.MAC = mac
	if _, err := tx.Tenant(p.Tenant); err != nil {
		return p, err
	}
	switch held, err := tx.Phone(mac); {
	case err == nil && held.Tenant == p.Tenant:
		return p, conflict("mac", "phone %s exists", mac)
	case err == nil:
		return p, unclaimable()
	case !errors.Is(err, ErrNotFound):
		return p, err
	}
	p.Created = tx.s.now().UTC()
	p.GuestUsername, p.GuestPassword = "", ""
	p.AdminPassword, p.ProvisioningPassword, p.ProvisioningPrevious = "", "", ""
	p.ProvisioningIssued, p.ProvisioningAuthenticated = time.Time{}, time.Time{}
	if err := tx.SavePhone(Phone{}, p); err != nil {
		return p, err
	}
	return tx.Phone(mac) // as saved: with its guest account when flex

}

// SavePhone writes next (prev is the stored record or the zero Phone) and keeps the
// tenant, user and guest-account indexes right. A phone that becomes flex gets its guest
// account here: read the phone back to see it.
func (tx *Tx) SavePhone(prev, next Phone) error {
	isNew := prev.MAC == ""
	if !isNew && (next.MAC != prev.MAC || next.Tenant != prev.Tenant) {
		return invalid("mac", "a phone's MAC and tenant cannot change")
	}
	if len(next.Model) > 64 || strings.ContainsAny(next.Model, "\r\n\x00/") {
		return invalid("model", "not a model name")
	}
	if err := checkEmergencyCallerID(&next.EmergencyCallerID); err != nil {
		return err
	}
	if next.UserID != "" && next.UserID != prev.UserID {
		if _, err := tx.User(next.Tenant, next.UserID); err != nil {
			return invalid("user_id", "no such user")
		}
	}
	if next.UserID != prev.UserID {
		if prev.UserID != "" {
			if err := tx.del(userPhoneKey(prev.Tenant, prev.UserID, prev.MAC)); err != nil {
				return err
			}
		}
		if next.UserID != "" {
			if err := tx.putRaw(userPhoneKey(next.Tenant, next.UserID, next.MAC), ""); err != nil {
				return err
			}
		}
	}
	// A flex phone has a guest SIP account; a phone that stops being flex loses it.
	if next.Flex && next.GuestUsername == "" {
		for {
			next.GuestUsername = NewSIPUsername()
			ok, err := tx.exists(sipUserKey(next.GuestUsername))
			if err != nil {
				return err
			}
			if !ok {
				break
			}
		}
		next.GuestPassword = tx.s.secrets.Seal(GeneratePassword())
		if err := tx.putRaw(sipUserKey(next.GuestUsername), guestRef(next.Tenant, next.MAC)); err != nil {
			return err
		}
	}
	if !next.Flex && prev.Flex {
		if _, err := tx.EndFlex(prev.Tenant, prev.MAC); err != nil {
			return err
		}
	}
	if !next.Flex && next.GuestUsername != "" {
		if err := tx.del(sipUserKey(next.GuestUsername)); err != nil {
			return err
		}
		next.GuestUsername, next.GuestPassword = "", ""
	}
	// Each phone has its own web admin and provisioning passwords.
	if next.AdminPassword == "" {
		next.AdminPassword = tx.s.secrets.Seal(GeneratePassword())
	}
	if next.ProvisioningPassword == "" {
		next.ProvisioningPassword = tx.s.secrets.Seal(GeneratePassword())
	}
	if err := tx.put(phoneKey(next.MAC), next); err != nil {
		return err
	}
	if isNew {
		if err := tx.putRaw(tenantPhoneKey(next.Tenant, next.MAC), ""); err != nil {
			return err
		}
	}
	c := Change{Kind: KindPhone, Op: OpPut, Tenant: next.Tenant, ID: next.MAC, New: next}
	if !isNew {
		c.Old = prev
	}
	tx.Emit(c)
	return nil
}

// MovePhone moves a phone between tenants in this transaction. It keeps the MAC, make,
// model, flex mode and raw settings; it leaves behind what belongs to the old tenant:
// its user, a flex login, its guest SIP account (a flex phone gets a new one), its own
// web-admin and provisioning passwords (new ones; its provisioning credentials start over
// as a new phone's). A discovered record of the MAC in the new tenant goes.
func (tx *Tx) MovePhone(mac, from, to string) (Phone, error) {
	if from == to {
		return Phone{}, invalid("tenant", "the phone is in tenant %s already", to)
	}
	if _, err := tx.Tenant(to); err != nil {
		if errors.Is(err, ErrNotFound) {
			return Phone{}, invalid("tenant", "no such tenant")
		}
		return Phone{}, err
	}
	prev, err := tx.DeletePhone(from, mac)
	if err != nil {
		return prev, err
	}
	next := prev
	next.Tenant, next.UserID, next.GuestUsername, next.GuestPassword = to, "", "", ""
	// The old tenant's admins saw the phone's own passwords: it gets new ones (SavePhone),
	// and its provisioning credentials start over as a new phone's.
	next.AdminPassword, next.ProvisioningPassword, next.ProvisioningPrevious = "", "", ""
	next.ProvisioningIssued, next.ProvisioningAuthenticated = time.Time{}, time.Time{}
	if err := tx.DeleteDiscovered(to, next.MAC); err != nil && !errors.Is(err, ErrNotFound) {
		return prev, err
	}
	if err := tx.SavePhone(Phone{}, next); err != nil {
		return prev, err
	}
	return tx.Phone(next.MAC)
}

// phoneDeleteHooks let store files that keep per-phone records (flex sessions, render
// logs) remove them with the phone.
var phoneDeleteHooks []func(tx *Tx, p Phone) error

// DeletePhone removes a phone of the tenant.
func (tx *Tx) DeletePhone(slug, mac string) (Phone, error) {
	p, err := tx.TenantPhone(slug, mac)
	if err != nil {
		return p, err
	}
	for _, h := range phoneDeleteHooks {
		if err := h(tx, p); err != nil {
			return p, err
		}
	}
	keys := []string{phoneKey(p.MAC), tenantPhoneKey(slug, p.MAC)}
	if p.UserID != "" {
		keys = append(keys, userPhoneKey(slug, p.UserID, p.MAC))
	}
	if p.GuestUsername != "" {
		keys = append(keys, sipUserKey(p.GuestUsername))
	}
	for _, k := range keys {
		if err := tx.del(k); err != nil {
			return p, err
		}
	}
	tx.Emit(Change{Kind: KindPhone, Op: OpDelete, Tenant: slug, ID: p.MAC, Old: p})
	return p, nil
}

// Phone reads a phone by MAC (any tenant: the MAC names one device).
func (tx *Tx) Phone(mac string) (Phone, error) {
	var p Phone
	m, ok := NormalizeMAC(mac)
	if !ok {
		return p, fmt.Errorf("phone %q: %w", mac, ErrNotFound)
	}
	if err := tx.get(phoneKey(m), &p); err != nil {
		return p, fmt.Errorf("phone %s: %w", m, err)
	}
	return p, nil
}

// TenantPhone reads a phone and answers ErrNotFound when it belongs to another tenant,
// so no tenant learns of another's devices.
func (tx *Tx) TenantPhone(slug, mac string) (Phone, error) {
	p, err := tx.Phone(mac)
	if err == nil && p.Tenant != slug {
		return Phone{}, fmt.Errorf("phone %s: %w", p.MAC, ErrNotFound)
	}
	return p, err
}

// Phones lists a tenant's phones in MAC order after cursor.
func (tx *Tx) Phones(slug, cursor string, limit int) ([]Phone, error) {
	prefix := "t/" + slug + "/phone/"
	var macs []string
	err := tx.scan(prefix, cursor, true, func(key string, _ *badgerItem) (bool, error) {
		macs = append(macs, strings.TrimPrefix(key, prefix))
		return limit <= 0 || len(macs) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Phone, 0, len(macs))
	for _, m := range macs {
		p, err := tx.Phone(m)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// UserPhones lists the MACs of the phones assigned to a user.
func (tx *Tx) UserPhones(slug, uid string) ([]string, error) {
	prefix := "t/" + slug + "/userphone/" + uid + "/"
	var macs []string
	err := tx.scan(prefix, "", true, func(key string, _ *badgerItem) (bool, error) {
		macs = append(macs, strings.TrimPrefix(key, prefix))
		return true, nil
	})
	return macs, err
}

// Phone reads a phone by MAC.
func (s *Store) Phone(mac string) (p Phone, err error) {
	err = s.View(func(tx *Tx) error { p, err = tx.Phone(mac); return err })
	return p, err
}

// RotateProvisioningPassword gives the phone new provisioning credentials and answers
// the password (shown once). A phone that proved the old ones may use them until its
// first fetch with the new ones; one that never did gets its one fetch without
// credentials again.
func (tx *Tx) RotateProvisioningPassword(slug, mac string) (Phone, string, error) {
	prev, err := tx.TenantPhone(slug, mac)
	if err != nil {
		return prev, "", err
	}
	next := prev
	pw := GeneratePassword()
	next.ProvisioningPassword = tx.s.secrets.Seal(pw)
	switch {
	case !prev.ProvisioningAuthenticated.IsZero():
		next.ProvisioningPrevious = prev.ProvisioningPassword
	case prev.ProvisioningPrevious == "":
		next.ProvisioningIssued = time.Time{}
	} // else the phone still knows the one it proved last: it stays the previous
	next.ProvisioningAuthenticated = time.Time{}
	return next, pw, tx.SavePhone(prev, next)
}

// OwnPasswords gives a phone stored before phones had their own web admin and
// provisioning passwords its own (SavePhone makes them), and answers it as stored.
func (tx *Tx) OwnPasswords(mac string) (Phone, error) {
	p, err := tx.Phone(mac)
	if err != nil || (p.AdminPassword != "" && p.ProvisioningPassword != "") {
		return p, err
	}
	if err := tx.SavePhone(p, p); err != nil {
		return p, err
	}
	return tx.Phone(mac)
}

// IssueProvisioningCredentials records that the phone's credentials are being handed out
// in a fetch without them, and answers false when they were already (once only).
func (tx *Tx) IssueProvisioningCredentials(mac string) (bool, error) {
	prev, err := tx.Phone(mac)
	if err != nil || !prev.ProvisioningIssued.IsZero() {
		return false, err
	}
	next := prev
	next.ProvisioningIssued = tx.s.now().UTC()
	return true, tx.SavePhone(prev, next)
}

// ProvisioningProven records a fetch that proved the phone's current credentials: the
// previous ones stop working.
func (tx *Tx) ProvisioningProven(mac string) error {
	prev, err := tx.Phone(mac)
	if err != nil || (!prev.ProvisioningAuthenticated.IsZero() && prev.ProvisioningPrevious == "") {
		return err
	}
	next := prev
	next.ProvisioningPrevious = ""
	next.ProvisioningAuthenticated = tx.s.now().UTC()
	if next.ProvisioningIssued.IsZero() {
		next.ProvisioningIssued = next.ProvisioningAuthenticated
	}
	return tx.SavePhone(prev, next)
}

// ProvisioningPasswords opens a phone's provisioning password and the previous one
// ("" when none).
func (s *Store) ProvisioningPasswords(p Phone) (current, previous string, err error) {
	if p.ProvisioningPassword == "" {
		return "", "", nil // a phone not saved since phones had their own
	}
	if current, err = s.secrets.Open(p.ProvisioningPassword); err != nil || p.ProvisioningPrevious == "" {
		return current, "", err
	}
	previous, err = s.secrets.Open(p.ProvisioningPrevious)
	return current, previous, err
}

// GuestPassword opens a flex phone's guest SIP password.
func (s *Store) GuestPassword(p Phone) (string, error) { return s.secrets.Open(p.GuestPassword) }
