package admin

import (
	"strings"
	"time"

	"github.com/dialtone/dialtone/store"
)

// viewAsTTL bounds a view-as session.
const viewAsTTL = time.Hour

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Tenant picks the account when one email logs in to several tenants.
	Tenant string `json:"tenant,omitempty"`
	// Session "cookie" puts the session in the console's cookie (cookiesession.go).
	Session string `json:"session,omitempty"`
}

type sessionAnswer struct {
	Token string `json:"token,omitempty"` // bearer sessions only
	// CSRFToken is a cookie session's token for the X-CSRF-Token header (cookiesession.go).
	CSRFToken string    `json:"csrf_token,omitempty"`
	Expires   time.Time `json:"expires"`
	User      userView  `json:"user"`
}

// login: POST /api/v1/auth/login. Failures are struck against the source address before
// the password hash is spent (throttle.go); past the limit the source gets 429 for the
// lockout time, and the lockout is logged once. The hash runs in the store's password
// gate: when it stays full (a flood), or another check of the same account is already in
// it, the answer is 429 "busy" with Retry-After, and no strike is kept.
func (a *API) login(r *request) (any, error) {
	if blocked, _ := a.strikes.Blocked(sourceKey(r.source)); blocked {
		return nil, a.throttled(r, "failed logins")
	}
	var in loginBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	if in.Email == "" {
		return nil, badRequest("email", "email is required")
	}
	if in.Password == "" {
		return nil, badRequest("password", "password is required")
	}
	cookie, err := cookieMode(in.Session)
	if err != nil {
		return nil, err
	}
	if cookie {
		if err := cookieRequestOK(r.ctx); err != nil {
			return nil, err
		}
	}
	var cands []store.User
	if err = a.view(func(tx *store.Tx) (err error) { cands, err = tx.UsersByLogin(in.Email); return err }); err != nil {
		return nil, err
	}
	done, p := a.attempt(r, "failed logins")
	if p != nil {
		return nil, p
	}
	who, err := a.checkLogin(r, in, cands)
	done(who != nil, err)
	if err != nil {
		return nil, err
	}
	if who == nil {
		return nil, problem(401, "unauthorized", "password", "wrong email or password")
	}
	if who.Role == store.RoleNone {
		return nil, forbidden("this account has no access to the API (role none)")
	}
	ans := sessionAnswer{}
	err = a.update(func(tx *store.Tx) error {
		tok, err := tx.CreateSession(store.Session{Tenant: who.Tenant, UserID: who.ID, Source: r.source}, a.cfg.SessionTTL)
		if err != nil {
			return err
		}
		ans.Token = tok
		r.caller = &caller{user: *who, actor: *who}
		if _, err := a.unlockPIN(tx, r, *who, "password login"); err != nil {
			return err
		}
		return r.audit(tx, who.Tenant, "auth.login", "user/"+who.ID, who.ID, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	ans.Expires = a.st.Now().Add(a.cfg.SessionTTL).UTC()
	ans.User = fullUserView(*who, r.caller.home())
	if cookie {
		setCookie(r.ctx, SessionCookie, ans.Token, a.cfg.SessionTTL)
		setCookie(r.ctx, HomeCookie, "", 0)
		ans.Token, ans.CSRFToken = "", csrfToken(ans.Token)
	}
	r.caller = nil // a login request is not a view-as request
	return ans, nil
}

// checkLogin finds the candidate whose password is in.Password; nil when none is.
func (a *API) checkLogin(r *request, in loginBody, cands []store.User) (*store.User, error) {
	ctx := r.ctx
	sec := a.st.Secrets()
	if len(cands) == 0 {
		// Spend the same time as a real check, so timing does not tell which emails exist.
		return nil, sec.SpendPasswordCheck(ctx, "login/"+strings.ToLower(in.Email), in.Password)
	}
	for i := range cands {
		if in.Tenant != "" && cands[i].Tenant != in.Tenant {
			continue
		}
		ok, err := sec.CheckPassword(ctx, passwordAccount(cands[i]), in.Password, cands[i].PasswordHash)
		if err != nil {
			return nil, err
		}
		if ok {
			return &cands[i], nil
		}
	}
	return nil, nil
}

// passwordAccount is the key of a user's share of the password gate (one check at a time).
func passwordAccount(u store.User) string { return "user/" + u.Tenant + "/" + u.ID }

// logout: POST /api/v1/auth/logout ends the session of the token used. A console
// (cookie) view-as session returns to the actor's own session when it is still live
// (cookiesession.go).
func (a *API) logout(r *request) (any, error) {
	c := r.caller
	var home *store.Session
	homeTok := string(r.ctx.Request.Header.Cookie(HomeCookie))
	err := a.update(func(tx *store.Tx) error {
		if c.byCookie && c.viewAs && homeTok != "" {
			if s, err := tx.Session(homeTok); err == nil && s.ActorID == "" &&
				s.Tenant == c.actor.Tenant && s.UserID == c.actor.ID {
				home = &s
			}
		}
		if err := tx.DeleteSession(c.token); err != nil {
			return err
		}
		return r.audit(tx, c.user.Tenant, "auth.logout", "user/"+c.user.ID, c.user.ID, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	if c.byCookie {
		setCookie(r.ctx, HomeCookie, "", 0)
		if home != nil {
			setCookie(r.ctx, SessionCookie, homeTok, home.Expires.Sub(a.st.Now()))
			return map[string]any{"restored": true, "csrf_token": csrfToken(homeTok)}, nil
		}
		setCookie(r.ctx, SessionCookie, "", 0)
	}
	r.status = 204
	return nil, nil
}

type meAnswer struct {
	userView
	// ViewAsBy is the person behind a view-as session.
	ViewAsBy *actorRef `json:"view_as_by,omitempty"`
	// CSRFToken is given to a cookie session (the console after a reload).
	CSRFToken string `json:"csrf_token,omitempty"`
}

type actorRef struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
	Email  string `json:"email,omitempty"`
}

// me: GET /api/v1/me, the acting user with their effective permissions.
func (a *API) me(r *request) (any, error) {
	c := r.caller
	ans := meAnswer{userView: fullUserView(c.user, c.home())}
	if c.viewAs {
		ans.ViewAsBy = &actorRef{Tenant: c.actor.Tenant, ID: c.actor.ID, Email: c.actor.Email}
	}
	if c.byCookie {
		ans.CSRFToken = csrfToken(c.token)
	}
	return ans, nil
}

// patchMe: PATCH /api/v1/me, self-service (own PIN, language, password, …).
func (a *API) patchMe(r *request) (any, error) {
	return a.changeUser(r, r.caller.home(), r.caller.user.ID)
}

type viewAsBody struct {
	Tenant string `json:"tenant"`
	UserID string `json:"user_id"`
	// Session "cookie": the console's cookie now holds the view-as session, and the
	// caller's own waits in a second cookie until logout (cookiesession.go).
	Session string `json:"session,omitempty"`
}

// viewAs: POST /api/v1/auth/view-as gives a session acting as another user, with at most
// the caller's own permissions; a view-as session cannot start another.
func (a *API) viewAs(r *request) (any, error) {
	c := r.caller
	if c.viewAs {
		return nil, forbidden("a view-as session cannot start another view-as session")
	}
	var in viewAsBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	cookie, err := cookieMode(in.Session)
	if err != nil {
		return nil, err
	}
	if cookie && !c.byCookie {
		return nil, badRequest("session", "a cookie view-as is started from a cookie session")
	}
	if in.Tenant == "" {
		in.Tenant = c.user.Tenant
	}
	sc, ok := c.scopeIn(in.Tenant)
	if !ok {
		return nil, &Problem{Status: 404, Code: "not_found", Field: "tenant", Message: "no such tenant"}
	}
	if err := sc.need(store.PermUsersViewAs); err != nil {
		return nil, err
	}
	ttl := min(viewAsTTL, c.sess.Expires.Sub(a.st.Now()))
	var ans sessionAnswer
	err = a.update(func(tx *store.Tx) error {
		target, err := tx.User(in.Tenant, in.UserID)
		if err != nil {
			return &Problem{Status: 404, Code: "not_found", Field: "user_id", Message: "no such user"}
		}
		switch {
		case target.ID == c.user.ID && target.Tenant == c.user.Tenant:
			return problem(422, "unprocessable", "user_id", "you cannot view as yourself")
		case target.Role == store.RoleNone:
			return problem(422, "unprocessable", "user_id", "a user with role none has no API view")
		case target.Role.Rank() > sc.rank:
			return forbiddenField("user_id", "you cannot view as a user whose role is above yours")
		}
		if err := sc.needOn(store.PermUsersViewAs, target); err != nil {
			return err
		}
		tok, err := tx.CreateSession(store.Session{Tenant: target.Tenant, UserID: target.ID,
			ActorTenant: c.actor.Tenant, ActorID: c.actor.ID, Source: r.source}, ttl)
		if err != nil {
			return err
		}
		ans.Token = tok
		ans.Expires = a.st.Now().Add(ttl).UTC()
		view := &caller{user: target, actor: c.actor, viewAs: true}
		ans.User = fullUserView(target, view.home())
		return r.audit(tx, target.Tenant, "auth.view_as", "user/"+target.ID, target.ID, nil,
			map[string]any{"target": target.ID, "expires": ans.Expires})
	})
	if err != nil {
		return nil, err
	}
	if cookie {
		setCookie(r.ctx, HomeCookie, c.token, c.sess.Expires.Sub(a.st.Now()))
		setCookie(r.ctx, SessionCookie, ans.Token, ttl)
		ans.Token, ans.CSRFToken = "", csrfToken(ans.Token)
	}
	r.status = 201
	return ans, nil
}
