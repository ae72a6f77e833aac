package admin

import (
	"bytes"

	"github.com/dialtone/dialtone/store"
)

// resetBody is POST …/users/{id}/reset-password. An empty body is {"mail": false}.
type resetBody struct {
	// Mail sends the user a reset mail with a one-time link to choose a new password
	// (72 h, single use, like the welcome mail's) instead of showing a new password once.
	Mail bool `json:"mail"`
}

// resetPassword: POST …/users/{id}/reset-password {"mail": false|true}. An admin
// (users.manage over the user, and mayTouchCredentials) resets another user's password:
// the old one stops working and every session of the user ends. Without mail the answer
// (200) shows a generated password once, as PATCH {"reset_password": true} does; with
// mail it (202) holds no password: the user gets a reset mail with a set-password link,
// and the generated password is shown to nobody. 409 when the user has no email to mail
// to, 503 when mail is not wired; both checked before anything changes. Your own password
// you change with PATCH /api/v1/me (old_password required). A PIN is reset with PATCH
// {"reset_pin": true} and shown once: the link sets a password, not a PIN.
func (a *API) resetPassword(r *request) (any, error) {
	sc, err := r.tenantScope()
	if err != nil {
		return nil, err
	}
	var in resetBody
	if len(bytes.TrimSpace(r.ctx.Request.Body())) > 0 {
		if err := decodeJSON(r.ctx.Request.Body(), &in); err != nil {
			return nil, err
		}
	}
	if err := sc.need(store.PermUsersManage); err != nil {
		return nil, err
	}
	if in.Mail && a.cfg.Welcome == nil {
		return nil, unavailable("mail")
	}
	password := store.GeneratePassword()
	hash := a.st.Secrets().HashGeneratedPassword(password)
	var saved store.User
	err = a.update(func(tx *store.Tx) error {
		prev, err := managedUser(tx, r, sc)
		if err != nil {
			return err
		}
		if prev.ID == sc.self.ID && prev.Tenant == sc.self.Tenant {
			return badRequest("", "change your own password with PATCH /api/v1/me (password and old_password)")
		}
		if err := r.caller.mayTouchCredentials(sc, prev); err != nil {
			return err
		}
		if in.Mail && prev.Email == "" {
			return problem(409, "no_email", "email", "this user has no email to mail a link to")
		}
		next, err := tx.ReplacePassword(prev, hash)
		if err != nil {
			return err
		}
		after := map[string]any{"secrets_changed": []string{"password"}, "delivery": "shown"}
		if in.Mail {
			after["delivery"], after["to"] = "mail", prev.Email
		}
		saved = next
		return r.audit(tx, sc.tenant, "user.reset_password", "user/"+prev.ID, prev.ID, nil, after)
	})
	if err != nil {
		return nil, err
	}
	if !in.Mail {
		return map[string]any{"id": saved.ID, "password": password}, nil
	}
	// The password is already unusable; a mail that cannot be queued (a broken template,
	// the store refusing) is an error the admin sees and can retry.
	if err := a.cfg.Welcome.QueueReset(sc.tenant, saved.ID); err != nil {
		return nil, err
	}
	r.status = 202
	return map[string]any{"id": saved.ID, "queued": true, "to": saved.Email}, nil
}
