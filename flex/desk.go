package flex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dialtone/dialtone/store"
)

// The answers a phone shows (INTERFACES.md): the same words whatever was wrong.
var (
	// ErrWrongPIN: unknown extension, wrong PIN, another tenant's extension, a phone not
	// in flex mode: all look the same from outside.
	//lint:ignore ST1005 the text is the SIP reason phrase the phone displays
	ErrWrongPIN = errors.New("Wrong extension or PIN")
	// ErrLocked: too many wrong PINs for this extension.
	//lint:ignore ST1005 the text is the SIP reason phrase the phone displays
	ErrLocked = errors.New("Locked, try later")
)

// Lock rules for PIN guessing.
const (
	MaxPINFailures = 5
	PINWindow      = 15 * time.Minute
	PINLock        = 15 * time.Minute
)

// Via says how and by whom a login or logout was asked for, for the audit log.
type Via struct {
	How     string // "sip", "api", "admin", "auto"
	Source  string // remote address
	ActorID string // the admin acting, when not the user themselves
	Actor   string // their email, for the audit log
}

// Desk logs users in and out of flex phones.
type Desk struct {
	st  *store.Store
	log *slog.Logger
	now func() time.Time
}

// New makes a Desk. now may be nil (time.Now); tests inject a clock.
func New(st *store.Store, log *slog.Logger, now func() time.Time) *Desk {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Desk{st: st, log: log.With("svc", "flex"), now: now}
}

// Login checks extension + PIN and logs the extension's user in at the flex phone mac.
// With the tenant's one-phone rule (the default) the user is logged out of any other
// phone first.
func (d *Desk) Login(ctx context.Context, tenant, mac, ext, pin string, via Via) (store.FlexSession, error) {
	var sess store.FlexSession
	var ended []store.FlexSession
	var outcome error
	now := d.now().UTC()
	err := d.st.Update(func(tx *store.Tx) error {
		sess, ended, outcome = store.FlexSession{}, nil, nil
		t, err := tx.Tenant(tenant)
		if err != nil {
			outcome = ErrWrongPIN
			return nil
		}
		phone, err := tx.TenantPhone(tenant, mac)
		if err != nil || !phone.Flex || !store.ValidExtension(ext) || len(pin) > 8 {
			outcome = ErrWrongPIN
			return nil
		}
		fails, err := tx.PINFailures(tenant, ext)
		if err != nil {
			return err
		}
		if now.Before(fails.LockedUntil) {
			outcome = ErrLocked
			return nil
		}
		e, errExt := tx.Extension(tenant, ext)
		var u store.User
		ok := errExt == nil && e.UserID != ""
		if ok {
			u, err = tx.User(tenant, e.UserID)
			ok = err == nil && d.st.Secrets().CheckPIN(u.PINOwner(), pin, u.PINHash)
		}
		if !ok {
			outcome = ErrWrongPIN
			if errExt == nil { // count guesses only against extensions that exist
				return d.recordFailure(tx, t, ext, fails, now, mac, via, &outcome)
			}
			return nil
		}
		if err := tx.ClearPINFailures(tenant, ext); err != nil {
			return err
		}
		if !t.FlexMultiLogin {
			if ended, err = tx.EndUserFlex(tenant, u.ID, mac); err != nil {
				return err
			}
		}
		until, err := store.AutoLogoutAt(t.AutoLogout, t.Timezone, now)
		if err != nil {
			return err
		}
		sess = store.FlexSession{Tenant: tenant, MAC: phone.MAC, UserID: u.ID, Extension: ext,
			Since: now, Until: until, How: via.How, By: via.ActorID}
		if err := tx.StartFlex(sess); err != nil {
			return err
		}
		for _, o := range ended {
			if err := d.audit(tx, tenant, "flex.logout", o.MAC, o.UserID, via, map[string]any{"reason": "logged in at " + phone.MAC}); err != nil {
				return err
			}
		}
		return d.audit(tx, tenant, "flex.login", phone.MAC, u.ID, via, map[string]any{"extension": ext, "until": until})
	})
	if err != nil {
		return store.FlexSession{}, fmt.Errorf("flex login: %w", err)
	}
	if outcome != nil {
		return store.FlexSession{}, outcome
	}
	d.log.Info("flex login", "tenant", tenant, "mac", sess.MAC, "user", sess.UserID, "how", via.How)
	return sess, nil
}

// recordFailure counts a wrong PIN and locks the extension at the fifth within the window.
// It is audited; the PIN itself never is.
func (d *Desk) recordFailure(tx *store.Tx, t store.Tenant, ext string, f store.PINFailures, now time.Time, mac string, via Via, outcome *error) error {
	if f.Count == 0 || now.Sub(f.First) > PINWindow {
		f = store.PINFailures{First: now}
	}
	f.Count++
	ttl := PINWindow - now.Sub(f.First)
	action := "flex.pin_failed"
	if f.Count >= MaxPINFailures {
		f.LockedUntil = now.Add(PINLock)
		ttl = PINLock
		action = "flex.locked"
		d.log.Warn("flex login locked after repeated wrong PINs", "tenant", t.Slug, "extension", ext, "source", via.Source)
	}
	if ttl < time.Second {
		ttl = time.Second
	}
	if err := tx.PutPINFailures(t.Slug, ext, f, ttl); err != nil {
		return err
	}
	return d.audit(tx, t.Slug, action, mac, "", via, map[string]any{"extension": ext, "failures": f.Count})
}

// Logout ends the session at a phone. It answers store.ErrNotFound when nobody was
// logged in there.
func (d *Desk) Logout(ctx context.Context, tenant, mac string, via Via) (store.FlexSession, error) {
	return d.logout(tenant, mac, "", via)
}

// ErrNotYours: *56 dialled from a line of a user who is not the one logged in at the
// phone.
var ErrNotYours = errors.New("another user is logged in at this phone")

// logout ends the session at mac; with onlyUser set, only when that user holds it.
func (d *Desk) logout(tenant, mac, onlyUser string, via Via) (store.FlexSession, error) {
	var ended store.FlexSession
	err := d.st.Update(func(tx *store.Tx) error {
		p, err := tx.TenantPhone(tenant, mac)
		if err != nil {
			return err
		}
		if onlyUser != "" {
			if s, err := tx.Flex(tenant, p.MAC); err == nil && s.UserID != onlyUser {
				return ErrNotYours
			}
		}
		if ended, err = tx.EndFlex(tenant, p.MAC); err != nil {
			return err
		}
		if ended.MAC == "" {
			return fmt.Errorf("nobody is logged in at %s: %w", p.MAC, store.ErrNotFound)
		}
		return d.audit(tx, tenant, "flex.logout", p.MAC, ended.UserID, via, nil)
	})
	if err == nil {
		d.log.Info("flex logout", "tenant", tenant, "mac", ended.MAC, "user", ended.UserID, "how", via.How)
	}
	return ended, err
}

func (d *Desk) audit(tx *store.Tx, tenant, action, mac, subject string, via Via, detail map[string]any) error {
	after := map[string]any{"how": via.How}
	for k, v := range detail {
		after[k] = v
	}
	return tx.Audit(store.AuditEvent{Tenant: tenant, Action: action, Object: "phone/" + mac,
		Subject: subject, ActorID: via.ActorID, ActorEmail: via.Actor, Source: via.Source, After: after})
}

// LogoutDialled is *56 dialled from a phone: the phone when the registrar can tell it,
// else the one phone the dialling user is logged in at. Dialled from a user's line
// (userID set) it ends only that user's own session (ErrNotYours otherwise); from the
// phone's guest line (userID "") whoever is logged in there.
func (d *Desk) LogoutDialled(ctx context.Context, tenant, mac, userID string, via Via) (store.FlexSession, error) {
	if mac == "" && userID != "" {
		var macs []string
		err := d.st.View(func(tx *store.Tx) (err error) { macs, err = tx.UserFlexPhones(tenant, userID); return err })
		if err != nil {
			return store.FlexSession{}, err
		}
		if len(macs) != 1 {
			return store.FlexSession{}, fmt.Errorf("cannot tell which phone to log out: %w", store.ErrNotFound)
		}
		mac = macs[0]
	}
	if mac == "" {
		return store.FlexSession{}, fmt.Errorf("no phone: %w", store.ErrNotFound)
	}
	return d.logout(tenant, mac, userID, via)
}
