package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Flex sessions: a user logged in at a shared (flex) phone.
//
//	t/{slug}/flex/{mac}                     FlexSession
//	t/{slug}/flexuser/{user-id}/{mac}       -> ""      (the phones a user is logged in at)
//	t/{slug}/flexuser/{user-id}             -> ""      (guard: written by every login, read
//	                                                    with the list above, see UserFlexPhones)
//	flexdue/{until-unix-hex}/{slug}/{mac}   -> ""      (auto-logout queue, in time order)
//	t/{slug}/pinfail/src/{source}           PINFailures (TTL: the window or the lock)
//	t/{slug}/pinfail/ext/{extension}        PINFailures (TTL: the window or the lock)

// FlexSession says who is logged in at a flex phone, since when, until when, and how.
type FlexSession struct {
	Tenant    string    `json:"tenant"`
	MAC       string    `json:"mac"`
	UserID    string    `json:"user_id"`
	Extension string    `json:"extension"` // the one dialled to log in
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until,omitzero"` // zero: no auto-logout
	How       string    `json:"how"`            // "sip", "api", "admin"
	By        string    `json:"by,omitempty"`   // the admin who logged the user in, if not themselves
}

func flexKey(slug, mac string) string          { return "t/" + slug + "/flex/" + mac }
func flexUserKey(slug, uid, mac string) string { return flexUserGuard(slug, uid) + "/" + mac }
func flexUserGuard(slug, uid string) string    { return "t/" + slug + "/flexuser/" + uid }
func flexDueKey(s FlexSession) string {
	return "flexdue/" + fmt.Sprintf("%016x", s.Until.Unix()) + "/" + s.Tenant + "/" + s.MAC
}

func init() {
	userDeleteHooks = append(userDeleteHooks, func(tx *Tx, u User) error {
		_, err := tx.EndUserFlex(u.Tenant, u.ID, "")
		return err
	})
	phoneDeleteHooks = append(phoneDeleteHooks, func(tx *Tx, p Phone) error {
		_, err := tx.EndFlex(p.Tenant, p.MAC)
		return err
	})
}

// StartFlex records a login, replacing whoever was logged in at the phone. The same user
// logging in there again renews the session: no logout is told.
func (tx *Tx) StartFlex(s FlexSession) error {
	prev, err := tx.Flex(s.Tenant, s.MAC)
	switch {
	case err == nil && prev.UserID == s.UserID:
		if !prev.Until.IsZero() {
			if err := tx.del(flexDueKey(prev)); err != nil {
				return err
			}
		}
	case err == nil || errors.Is(err, ErrNotFound):
		if _, err := tx.EndFlex(s.Tenant, s.MAC); err != nil {
			return err
		}
	default:
		return err
	}
	if err := tx.put(flexKey(s.Tenant, s.MAC), s); err != nil {
		return err
	}
	if err := tx.putRaw(flexUserKey(s.Tenant, s.UserID, s.MAC), ""); err != nil {
		return err
	}
	if err := tx.putRaw(flexUserGuard(s.Tenant, s.UserID), ""); err != nil {
		return err
	}
	if !s.Until.IsZero() {
		if err := tx.putRaw(flexDueKey(s), ""); err != nil {
			return err
		}
	}
	tx.Emit(Change{Kind: KindFlex, Op: OpPut, Tenant: s.Tenant, ID: s.MAC, New: s})
	return nil
}

// EndFlex logs out whoever is logged in at a phone; it returns the ended session, or
// ErrNotFound when nobody was.
func (tx *Tx) EndFlex(slug, mac string) (FlexSession, error) {
	s, err := tx.Flex(slug, mac)
	if errors.Is(err, ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	keys := []string{flexKey(slug, mac), flexUserKey(slug, s.UserID, mac)}
	if !s.Until.IsZero() {
		keys = append(keys, flexDueKey(s))
	}
	for _, k := range keys {
		if err := tx.del(k); err != nil {
			return s, err
		}
	}
	tx.Emit(Change{Kind: KindFlex, Op: OpDelete, Tenant: slug, ID: mac, Old: s})
	return s, nil
}

// EndUserFlex logs a user out of every phone but keep (a MAC, or "" for all), returning
// the ended sessions.
func (tx *Tx) EndUserFlex(slug, uid, keep string) ([]FlexSession, error) {
	macs, err := tx.UserFlexPhones(slug, uid)
	if err != nil {
		return nil, err
	}
	var ended []FlexSession
	for _, mac := range macs {
		if mac == keep {
			continue
		}
		s, err := tx.EndFlex(slug, mac)
		if err != nil {
			return ended, err
		}
		if s.MAC != "" {
			ended = append(ended, s)
		}
	}
	if keep == "" { // logged out everywhere: the guard goes too (a login writes it again)
		if err := tx.del(flexUserGuard(slug, uid)); err != nil {
			return ended, err
		}
	}
	return ended, nil
}

// Flex reads the session at a phone; ErrNotFound when nobody is logged in.
func (tx *Tx) Flex(slug, mac string) (FlexSession, error) {
	var s FlexSession
	err := tx.get(flexKey(slug, mac), &s)
	return s, err
}

// UserFlexPhones lists the MACs a user is logged in at.
//
// It also reads the user's guard key, which every login writes: Badger's conflict check
// sees only keys a transaction read, and a scan that found nothing read none, so two
// racing logins of one user at two phones would both commit (a phantom) without it.
func (tx *Tx) UserFlexPhones(slug, uid string) ([]string, error) {
	guard := flexUserGuard(slug, uid)
	if _, err := tx.exists(guard); err != nil {
		return nil, err
	}
	prefix := guard + "/"
	var macs []string
	err := tx.scan(prefix, "", true, func(key string, _ *badgerItem) (bool, error) {
		macs = append(macs, strings.TrimPrefix(key, prefix))
		return true, nil
	})
	return macs, err
}

// DueFlex lists sessions whose auto-logout time is at or before now, oldest first, at
// most limit: the auto-logout loop reads only what is due, never every session.
func (tx *Tx) DueFlex(now time.Time, limit int) ([]FlexSession, error) {
	bound := "flexdue/" + fmt.Sprintf("%016x", now.Unix()) + "/\xff"
	var refs [][2]string
	err := tx.scan("flexdue/", "", true, func(key string, _ *badgerItem) (bool, error) {
		if key > bound {
			return false, nil
		}
		parts := strings.SplitN(strings.TrimPrefix(key, "flexdue/"), "/", 3)
		if len(parts) == 3 {
			refs = append(refs, [2]string{parts[1], parts[2]})
		}
		return len(refs) < limit, nil
	})
	if err != nil {
		return nil, err
	}
	var out []FlexSession
	for _, r := range refs {
		s, err := tx.Flex(r[0], r[1])
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// endFlexOnExtensionLoss logs a user out everywhere when an extension of theirs is taken
// away (the phone would otherwise keep a line the user no longer has).
func (tx *Tx) endFlexOnExtensionLoss(prev, next User) error {
	for _, n := range prev.Extensions {
		if !slices.Contains(next.Extensions, n) {
			_, err := tx.EndUserFlex(prev.Tenant, prev.ID, "")
			return err
		}
	}
	return nil
}

// PINFailures counts wrong PINs within a window, for one source (the phone a code was
// dialled at, or the address of an API caller) or for one extension.
type PINFailures struct {
	Count       int       `json:"count"`
	First       time.Time `json:"first"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
}

// Locked says whether the record locks flex login at now.
func (f PINFailures) Locked(now time.Time) bool { return now.Before(f.LockedUntil) }

// What PIN failures are counted against.
const (
	PINBySource    = "src"
	PINByExtension = "ext"
)

func pinFailKey(slug, by, id string) string { return "t/" + slug + "/pinfail/" + by + "/" + id }

// PINFailures reads the failure record of a source or an extension (zero when none).
func (tx *Tx) PINFailures(slug, by, id string) (PINFailures, error) {
	var f PINFailures
	err := tx.get(pinFailKey(slug, by, id), &f)
	if errors.Is(err, ErrNotFound) {
		return PINFailures{}, nil
	}
	return f, err
}

// PutPINFailures writes a failure record with a TTL (the rest of its window or its lock),
// so it disappears by itself: the records are as many as sources and extensions guessed
// at within the last window, and no more.
func (tx *Tx) PutPINFailures(slug, by, id string, f PINFailures, ttl time.Duration) error {
	if len(id) > 80 {
		return invalid("source", "too long")
	}
	return tx.putTTL(pinFailKey(slug, by, id), f, ttl)
}

// ClearPINFailures forgets the failures of a source or an extension.
func (tx *Tx) ClearPINFailures(slug, by, id string) error { return tx.del(pinFailKey(slug, by, id)) }

// UnlockExtensions lifts the flex lock of the extensions given (the user logged in with
// their password, or an admin cleared it) and answers those that were locked at now.
func (tx *Tx) UnlockExtensions(slug string, exts []string, now time.Time) ([]string, error) {
	var lifted []string
	for _, ext := range exts {
		f, err := tx.PINFailures(slug, PINByExtension, ext)
		if err != nil {
			return nil, err
		}
		if f.Count == 0 {
			continue
		}
		if err := tx.ClearPINFailures(slug, PINByExtension, ext); err != nil {
			return nil, err
		}
		if f.Locked(now) {
			lifted = append(lifted, ext)
		}
	}
	return lifted, nil
}

// AutoLogoutAt computes when a login made at now ends under a tenant's policy:
// "never", "after:DURATION" (e.g. after:8h) or "daily:HH:MM" in the tenant's time zone
// (the default, daily:03:00).
func AutoLogoutAt(policy, timezone string, now time.Time) (time.Time, error) {
	if policy == "" {
		policy = "daily:03:00"
	}
	kind, arg, _ := strings.Cut(policy, ":")
	switch kind {
	case "never":
		return time.Time{}, nil
	case "after":
		d, err := time.ParseDuration(arg)
		if err != nil || d < time.Minute || d > 30*24*time.Hour {
			return time.Time{}, invalid("auto_logout", "after: needs a duration from 1m to 720h")
		}
		return now.Add(d), nil
	case "daily":
		hh, mm, ok := strings.Cut(arg, ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
			return time.Time{}, invalid("auto_logout", "daily: needs HH:MM")
		}
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			loc = time.UTC
		}
		local := now.In(loc)
		at := time.Date(local.Year(), local.Month(), local.Day(), h, m, 0, 0, loc)
		if !at.After(local) {
			at = time.Date(local.Year(), local.Month(), local.Day()+1, h, m, 0, 0, loc)
		}
		return at.UTC(), nil
	}
	return time.Time{}, invalid("auto_logout", "never, after:DURATION or daily:HH:MM")
}
