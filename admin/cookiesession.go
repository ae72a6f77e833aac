package admin

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/valyala/fasthttp"
)

// Cookie sessions (the web console). A login or view-as asking {"session": "cookie"}
// gets its session token in an HttpOnly, SameSite=Strict, Path=/ cookie (Secure when the
// request came over TLS) instead of in the answer, which carries a CSRF token in its place.
// The API takes that cookie wherever it takes a bearer token; a request with an
// Authorization header is judged by the header alone.
//
// CSRF: every state-changing request (anything but GET and HEAD) authenticated by the
// cookie must carry the CSRF token in the X-CSRF-Token header, else 403 "csrf". The token
// is a MAC of the session token (RFC 2104), so it is bound to that session, stored
// nowhere, and cannot be made without the HttpOnly cookie. Script reads it from the login
// answer or from GET /api/v1/me (whose answer another origin cannot read). SameSite=Strict
// keeps the cookie off cross-site requests besides. A cookie login must itself be a
// same-origin JSON request (Content-Type application/json, which a cross-site form cannot
// send without a preflight this server never grants), so no site logs a browser in to an
// account of its own choosing.
//
// View-as in a cookie session keeps the actor's own session in a second HttpOnly cookie;
// POST /api/v1/auth/logout from the view-as session ends it and puts the actor's session
// back (answer 200 {"restored": true, "csrf_token"}), as "return to your own account".

const (
	// SessionCookie holds a console session's token.
	SessionCookie = "dialtone_session"
	// HomeCookie holds the actor's own session token while the console views as someone.
	HomeCookie = "dialtone_home"
	// CSRFHeader carries the CSRF token of a cookie session.
	CSRFHeader = "X-CSRF-Token"
)

// sessionMode is the "session" member of a login or view-as body.
func cookieMode(mode string) (bool, error) {
	switch mode {
	case "", "bearer":
		return false, nil
	case "cookie":
		return true, nil
	}
	return false, badRequest("session", `session must be "bearer" or "cookie"`)
}

// csrfToken is the CSRF token bound to a session token.
func csrfToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("dialtone csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// requestToken finds a request's session token: the bearer token, else the session
// cookie, whose state-changing requests must prove the CSRF token.
func requestToken(ctx *fasthttp.RequestCtx) (tok string, byCookie bool, err error) {
	if h := ctx.Request.Header.Peek("Authorization"); len(h) > 0 {
		t, ok := bytes.CutPrefix(h, []byte("Bearer "))
		if !ok || len(t) == 0 {
			return "", false, errUnauthorized
		}
		return string(t), false, nil
	}
	c := ctx.Request.Header.Cookie(SessionCookie)
	if len(c) == 0 {
		return "", false, errUnauthorized
	}
	tok = string(c)
	if !ctx.IsGet() && !ctx.IsHead() {
		got := ctx.Request.Header.Peek(CSRFHeader)
		if !hmac.Equal(got, []byte(csrfToken(tok))) {
			return "", true, problem(403, "csrf", "", "missing or wrong "+CSRFHeader+" header (a cookie session needs it on every change)")
		}
	}
	return tok, true, nil
}

// cookieRequestOK refuses a cookie login that is not a same-origin JSON request.
func cookieRequestOK(ctx *fasthttp.RequestCtx) error {
	ct := ctx.Request.Header.ContentType()
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !bytes.EqualFold(bytes.TrimSpace(ct), []byte("application/json")) {
		return problem(415, "unsupported_media_type", "", "a cookie session is asked for with Content-Type: application/json")
	}
	if site := ctx.Request.Header.Peek("Sec-Fetch-Site"); len(site) > 0 && string(site) != "same-origin" && string(site) != "none" {
		return forbidden("a cookie session is asked for from the console's own origin only")
	}
	return nil
}

// setCookie sets (or, with ttl 0, clears) one of the console's HttpOnly cookies.
func setCookie(ctx *fasthttp.RequestCtx, name, value string, ttl time.Duration) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(name)
	c.SetValue(value)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	c.SetSecure(ctx.IsTLS())
	if ttl > 0 {
		c.SetMaxAge(int(ttl / time.Second))
	} else {
		c.SetMaxAge(-1) // Max-Age=0: gone now (RFC 6265 section 5.2.2)
		c.SetExpire(fasthttp.CookieExpireDelete)
	}
	ctx.Response.Header.SetCookie(c)
}
