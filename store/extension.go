package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func extKey(slug, number string) string { return "t/" + slug + "/ext/" + number }
func sipUserKey(username string) string { return "idx/sipuser/" + username }
func didKey(slug, e164 string) string   { return "t/" + slug + "/did/" + e164 }

// createExtension makes extension number (unique in the tenant) for a user, with a random
// SIP user name (unique across tenants) and password.
func (tx *Tx) createExtension(slug, number, userID string) error {
	if ok, err := tx.exists(extKey(slug, number)); err != nil || ok {
		return errors.Join(err, conflict("extensions", "extension %s is taken", number))
	}
	var username string
	for {
		username = NewSIPUsername()
		ok, err := tx.exists(sipUserKey(username))
		if err != nil {
			return err
		}
		if !ok {
			break
		}
	}
	e := Extension{Tenant: slug, Number: number, UserID: userID, SIPUsername: username,
		SIPPassword: tx.s.secrets.Seal(GeneratePassword())}
	return tx.putExtension(nil, e)
}

func (tx *Tx) putExtension(prev *Extension, e Extension) error {
	if err := tx.put(extKey(e.Tenant, e.Number), e); err != nil {
		return err
	}
	if prev != nil && prev.SIPUsername != e.SIPUsername {
		if err := tx.del(sipUserKey(prev.SIPUsername)); err != nil {
			return err
		}
	}
	if err := tx.putRaw(sipUserKey(e.SIPUsername), e.Tenant+"/"+e.Number); err != nil {
		return err
	}
	c := Change{Kind: KindExtension, Op: OpPut, Tenant: e.Tenant, ID: e.Number, New: e}
	if prev != nil {
		c.Old = *prev
	}
	tx.Emit(c)
	return nil
}

func (tx *Tx) deleteExtension(slug, number string) error {
	e, err := tx.Extension(slug, number)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.del(extKey(slug, number)); err != nil {
		return err
	}
	if err := tx.del(sipUserKey(e.SIPUsername)); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindExtension, Op: OpDelete, Tenant: slug, ID: number, Old: e})
	return nil
}

// RegenerateSIP gives an extension a new SIP user name and password (phones are
// re-provisioned through the change event).
func (tx *Tx) RegenerateSIP(slug, number string) (Extension, error) {
	prev, err := tx.Extension(slug, number)
	if err != nil {
		return prev, err
	}
	next := prev
	for {
		next.SIPUsername = NewSIPUsername()
		ok, err := tx.exists(sipUserKey(next.SIPUsername))
		if err != nil {
			return prev, err
		}
		if !ok {
			break
		}
	}
	next.SIPPassword = tx.s.secrets.Seal(GeneratePassword())
	return next, tx.putExtension(&prev, next)
}

// nextFreeExtension finds the lowest free number of the tenant's range at or above the
// last one this transaction handed out.
func (tx *Tx) nextFreeExtension(slug string) (string, error) {
	t, err := tx.Tenant(slug)
	if err != nil {
		return "", err
	}
	if tx.extHint == nil {
		tx.extHint = map[string]int{}
	}
	start := max(t.ExtMin, tx.extHint[slug])
	for n := start; n <= t.ExtMax; n++ {
		num := strconv.Itoa(n)
		if !ValidExtension(num) {
			continue
		}
		ok, err := tx.exists(extKey(slug, num))
		if err != nil {
			return "", err
		}
		if !ok && !tx.reserved(slug, num) {
			tx.extHint[slug] = n + 1
			return num, nil
		}
	}
	return "", conflict("extensions", "no free extension left in %d-%d", t.ExtMin, t.ExtMax)
}

// reserved lets an import keep numbers named later in the file from being handed out to
// earlier rows without a number.
func (tx *Tx) reserved(slug, num string) bool {
	return tx.reservedExt != nil && tx.reservedExt[slug+"/"+num]
}

// ReserveExtensions marks numbers as taken for nextFreeExtension in this transaction.
func (tx *Tx) ReserveExtensions(slug string, numbers []string) {
	if tx.reservedExt == nil {
		tx.reservedExt = map[string]bool{}
	}
	for _, n := range numbers {
		tx.reservedExt[slug+"/"+n] = true
	}
}

// Extension reads one extension.
func (tx *Tx) Extension(slug, number string) (Extension, error) {
	var e Extension
	if err := tx.get(extKey(slug, number), &e); err != nil {
		return e, fmt.Errorf("extension %s: %w", number, err)
	}
	return e, nil
}

// ExtensionBySIPUsername finds the extension whose SIP account has this user name.
func (tx *Tx) ExtensionBySIPUsername(username string) (Extension, error) {
	if username == "" || len(username) > 64 {
		return Extension{}, ErrNotFound
	}
	ref, err := tx.getRaw(sipUserKey(username))
	if err != nil {
		return Extension{}, err
	}
	slug, number, ok := strings.Cut(ref, "/")
	if !ok {
		return Extension{}, ErrCorrupt
	}
	return tx.Extension(slug, number)
}

// Extensions lists a tenant's extensions in number order after cursor.
func (tx *Tx) Extensions(slug, cursor string, limit int) ([]Extension, error) {
	var out []Extension
	err := scanValues(tx, "t/"+slug+"/ext/", cursor, limit, func(e Extension) bool { out = append(out, e); return true })
	return out, err
}

// SIPPassword opens an extension's sealed SIP password.
func (s *Store) SIPPassword(e Extension) (string, error) { return s.secrets.Open(e.SIPPassword) }

// Extension reads one extension.
func (s *Store) Extension(slug, number string) (e Extension, err error) {
	err = s.View(func(tx *Tx) error { e, err = tx.Extension(slug, number); return err })
	return e, err
}

// ExtensionBySIPUsername finds the extension of a SIP user name.
func (s *Store) ExtensionBySIPUsername(username string) (e Extension, err error) {
	err = s.View(func(tx *Tx) error { e, err = tx.ExtensionBySIPUsername(username); return err })
	return e, err
}

func (tx *Tx) createNumber(slug, e164, userID string) error {
	if ok, err := tx.exists(didKey(slug, e164)); err != nil || ok {
		return errors.Join(err, conflict("external_numbers", "%s is taken", e164))
	}
	n := ExternalNumber{Tenant: slug, Number: e164, UserID: userID}
	if err := tx.put(didKey(slug, e164), n); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindNumber, Op: OpPut, Tenant: slug, ID: e164, New: n})
	return nil
}

func (tx *Tx) deleteNumber(slug, e164 string) error {
	var n ExternalNumber
	if err := tx.get(didKey(slug, e164), &n); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := tx.del(didKey(slug, e164)); err != nil {
		return err
	}
	tx.Emit(Change{Kind: KindNumber, Op: OpDelete, Tenant: slug, ID: e164, Old: n})
	return nil
}

// ExternalNumber reads one DID.
func (tx *Tx) ExternalNumber(slug, e164 string) (ExternalNumber, error) {
	var n ExternalNumber
	err := tx.get(didKey(slug, e164), &n)
	return n, err
}

// FreeExtensions lists the numbers of the tenant's range [ExtMin, ExtMax] that no one
// holds, in numeric order after the number after ("" from the start), at most limit.
func (tx *Tx) FreeExtensions(slug, after string, limit int) ([]string, error) {
	t, err := tx.Tenant(slug)
	if err != nil {
		return nil, err
	}
	start := t.ExtMin
	if n, err := strconv.Atoi(after); err == nil && n >= start {
		start = n + 1
	}
	var out []string
	for n := start; n <= t.ExtMax && len(out) < limit; n++ {
		num := strconv.Itoa(n)
		if !ValidExtension(num) {
			continue
		}
		ok, err := tx.exists(extKey(slug, num))
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, num)
		}
	}
	return out, nil
}
