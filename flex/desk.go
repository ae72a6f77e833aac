package flex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
)

// The answers a phone shows (docs/sip.md, "Flex codes"): the same words whatever was wrong.
var (
	// ErrWrongPIN: unknown extension, wrong PIN, another tenant's extension, a phone not
	// in flex mode: all look the same from outside.
	//lint:ignore ST1005 the text is the SIP reason phrase the phone displays
	ErrWrongPIN = errors.New("Wrong extension or PIN")
	// ErrLocked: too many wrong PINs for this extension.
	//lint:ignore ST1005 the text is the SIP reason phrase the phone displays
	ErrLocked = errors.New("Locked, try later")
)

// Lock rules for PIN guessing, counted per source and per extension. A source is the phone
// a code was dialled at, or the caller's address (IPv6 by /64) for a login over the API.
// A source that guesses wrong MaxSourceFailures times within PINWindow is locked from flex
// login for PINLock, whatever extension it tries next; an extension is locked for PINLock
// after MaxExtensionFailures wrong PINs within PINWindow from all sources together. One
// source alone cannot lock an extension: its own lock outlasts the extension's window. A
// password login by the extension's user, or an admin, lifts the extension's lock early.
const (
	MaxSourceFailures    = 5
	MaxExtensionFailures = 10
	PINWindow            = 15 * time.Minute
	PINLock              = 15 * time.Minute
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
	// counts are the logins by outcome and the locks started (stats.go).
	counts counts
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
	var locks int
	now := d.now().UTC()
	err := d.st.Update(func(tx *store.Tx) error {
		sess, ended, outcome, locks = store.FlexSession{}, nil, nil, 0
		t, err := tx.Tenant(tenant)
		if err != nil {
			outcome = ErrWrongPIN
			return nil
		}
		phone, err := tx.TenantPhone(tenant, mac)
		if err != nil || !phone.Flex || !store.ValidExtension(ext) || len(pin) > store.MaxPINLength {
			outcome = ErrWrongPIN
			return nil
		}
		src := guessSource(phone.MAC, via)
		srcFails, err := tx.PINFailures(tenant, store.PINBySource, src)
		if err != nil {
			return err
		}
		extFails, err := tx.PINFailures(tenant, store.PINByExtension, ext)
		if err != nil {
			return err
		}
		if srcFails.Locked(now) || extFails.Locked(now) {
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
			g := guess{tenant: tenant, mac: phone.MAC, ext: ext, src: src, now: now, via: via, locks: &locks}
			if errExt == nil { // count against extensions that exist only, not every number tried
				g.owner, g.extFails = e.UserID, &extFails
			}
			return d.recordFailure(tx, g, srcFails)
		}
		// A good PIN clears its extension's count, not the source's: an attacker's own
		// PIN does not buy more guesses.
		if extFails.Count > 0 {
			if err := tx.ClearPINFailures(tenant, store.PINByExtension, ext); err != nil {
				return err
			}
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
	d.counts.done(outcome, locks)
	if outcome != nil {
		return store.FlexSession{}, outcome
	}
	d.log.Info("flex login", "tenant", tenant, "mac", sess.MAC, "user", sess.UserID, "how", via.How)
	return sess, nil
}

// guess is one wrong PIN: where it came from and what it was for.
type guess struct {
	tenant, mac, ext, src string
	owner                 string             // the extension's user, when it exists
	extFails              *store.PINFailures // nil: an extension that does not exist
	now                   time.Time
	via                   Via
	locks                 *int // locks this guess started, counted once the transaction commits
}

// guessSource is what a guess is counted against besides its extension: the phone for a
// code dialled at it, the caller's address for a login over the API.
func guessSource(mac string, via Via) string {
	if via.How != "sip" {
		if ap, err := netip.ParseAddrPort(via.Source); err == nil {
			return "addr-" + ratelimit.Source(ap.Addr()).String()
		}
		if a, err := netip.ParseAddr(via.Source); err == nil {
			return "addr-" + ratelimit.Source(a).String()
		}
	}
	return "phone-" + mac
}

// recordFailure counts a wrong PIN against its source and its extension, locking either at
// its limit. A lock is audited; a single wrong guess is not (so guessing cannot fill the
// log), and the PIN itself never is.
func (d *Desk) recordFailure(tx *store.Tx, g guess, srcFails store.PINFailures) error {
	if err := d.count(tx, g, store.PINBySource, g.src, srcFails, MaxSourceFailures, ""); err != nil {
		return err
	}
	if g.extFails == nil {
		return nil
	}
	return d.count(tx, g, store.PINByExtension, g.ext, *g.extFails, MaxExtensionFailures, g.owner)
}

func (d *Desk) count(tx *store.Tx, g guess, by, id string, f store.PINFailures, limit int, subject string) error {
	if f.Count == 0 || g.now.Sub(f.First) > PINWindow {
		f = store.PINFailures{First: g.now}
	}
	f.Count++
	ttl := PINWindow - g.now.Sub(f.First)
	locked := f.Count >= limit
	if locked {
		f.LockedUntil = g.now.Add(PINLock)
		ttl = PINLock
	}
	if err := tx.PutPINFailures(g.tenant, by, id, f, max(ttl, time.Second)); err != nil {
		return err
	}
	if !locked {
		return nil
	}
	*g.locks++
	scope := map[string]string{store.PINBySource: "source", store.PINByExtension: "extension"}[by]
	d.log.Warn("flex login locked after repeated wrong PINs", "tenant", g.tenant, "locked", scope,
		"extension", g.ext, "phone", g.mac, "source", g.via.Source)
	return d.audit(tx, g.tenant, "flex.locked", g.mac, subject, g.via, map[string]any{"locked": scope,
		"source": g.src, "extension": g.ext, "failures": f.Count, "until": f.LockedUntil})
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
