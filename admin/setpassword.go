package admin

import (
	"encoding/hex"
	"errors"

	"github.com/dialtone/dialtone/store"
)

// The welcome mail's one-time link lands here: POST /api/v1/auth/set-password spends it
// (single use, 72 h) and sets the user's password. Admins resend the mail with
// POST …/users/{id}/welcome.

type setPasswordBody struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// setPassword: POST /api/v1/auth/set-password {"token","password"} (public). 410 when
// the link was used, has expired or is unknown; 400 for a malformed token or a weak
// password (the link stays usable). The password is hashed with argon2id and every
// session of the user ends. Bad tokens count as failed logins for the source's throttle.
func (a *API) setPassword(r *request) (any, error) {
	if blocked, _ := a.strikes.Blocked(sourceKey(r.source)); blocked {
		return nil, a.throttled(r, "failed attempts")
	}
	var in setPasswordBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, badRequest("token", "token is required")
	}
	if b, err := hex.DecodeString(in.Token); err != nil || len(b) != 32 {
		a.badLink(r)
		return nil, badRequest("token", "not a token from a set-password link")
	}
	// Check the link before spending an argon2id hash on the request.
	if err := a.view(func(tx *store.Tx) error { _, err := tx.PasswordLink(in.Token); return err }); err != nil {
		if errors.Is(err, store.ErrLinkGone) {
			a.badLink(r)
			return nil, linkGone()
		}
		return nil, err
	}
	if in.Password == "" {
		return nil, badRequest("password", "password is required")
	}
	if err := store.CheckPasswordStrength(in.Password); err != nil {
		return nil, err
	}
	hash, err := a.st.Secrets().HashPassword(r.ctx, in.Password) // busy: 429 (errors.go)
	if err != nil {
		return nil, err
	}
	var who store.User
	err = a.update(func(tx *store.Tx) error {
		link, err := tx.UsePasswordLink(in.Token)
		if err != nil {
			return err
		}
		prev, err := tx.User(link.Tenant, link.UserID)
		if err != nil {
			return err
		}
		next, err := tx.ReplacePassword(prev, hash)
		if err != nil {
			return err
		}
		who = next
		r.caller = &caller{user: next, actor: next}
		return r.audit(tx, prev.Tenant, "user.set_password", "user/"+prev.ID, prev.ID, nil,
			map[string]any{"secrets_changed": []string{"password"}, "link": link.Purpose})
	})
	r.caller = nil
	if errors.Is(err, store.ErrLinkGone) {
		return nil, linkGone()
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"tenant": who.Tenant, "email": who.Email}, nil
}

func linkGone() *Problem {
	return problem(410, "link_gone", "token", "this link was used or has expired; ask for a new one")
}

// badLink counts a bad token against the source, like a failed login.
func (a *API) badLink(r *request) {
	if a.strikes.Strike(sourceKey(r.source)) {
		a.log.Warn("set-password locked out after repeated bad links", "source", r.source,
			"failures", a.cfg.LoginFailures, "lockout", a.cfg.LoginLockout.String())
	}
}

// resendWelcome: POST …/users/{id}/welcome queues the welcome mail again, with a new
// link (the earlier one stops working when the new one is sent). users.manage over the
// user and mayTouchCredentials, as for a password reset; 409 when the user has no email.
func (a *API) resendWelcome(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermUsersManage)
	if err != nil {
		return nil, err
	}
	var u store.User
	if err := a.view(func(tx *store.Tx) error { u, err = tx.User(sc.tenant, r.param("id")); return err }); err != nil {
		return nil, err
	}
	if err := sc.needOn(store.PermUsersManage, u); err != nil {
		return nil, err
	}
	if u.ID == sc.self.ID && u.Tenant == sc.self.Tenant {
		return nil, badRequest("", "change your own password with PATCH /api/v1/me (password and old_password)")
	}
	// A new link sets the user's password: the same rule as a password reset.
	if err := r.caller.mayTouchCredentials(sc, u); err != nil {
		return nil, err
	}
	if u.Email == "" {
		return nil, problem(409, "no_email", "email", "this user has no email to send a welcome mail to")
	}
	if a.cfg.Welcome == nil {
		return nil, unavailable("mail")
	}
	if err := a.cfg.Welcome.QueueWelcome(sc.tenant, u.ID); err != nil {
		return nil, err
	}
	if err := a.update(func(tx *store.Tx) error {
		return r.audit(tx, sc.tenant, "user.welcome", "user/"+u.ID, u.ID, nil, map[string]any{"to": u.Email})
	}); err != nil {
		return nil, err
	}
	r.status = 202
	return map[string]any{"queued": true, "to": u.Email}, nil
}
