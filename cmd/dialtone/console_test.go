package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dialtone/dialtone/console"
)

// cookieLogin logs in through the API as the console does and returns the session
// cookie and the CSRF token.
func cookieLogin(t *testing.T, c *http.Client, base, email, password string) (*http.Cookie, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password, "session": "cookie"})
	req, _ := http.NewRequest("POST", base+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("cookie login: %d %s", res.StatusCode, b)
	}
	var ans struct {
		Token     string `json:"token"`
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Token != "" {
		t.Errorf("a cookie login answers the session token in its body too: %s", b)
	}
	if ans.CSRFToken == "" {
		t.Fatalf("no csrf_token in the cookie login's answer: %s", b)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == "dialtone_session" {
			return ck, ans.CSRFToken
		}
	}
	t.Fatalf("no session cookie set: %v", res.Header.Values("Set-Cookie"))
	return nil, ""
}

// cookieCall does one request with the session cookie and (when not empty) the CSRF
// header, and returns status and body.
func cookieCall(t *testing.T, c *http.Client, method, url string, ck *http.Cookie, csrf string, body any) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, r)
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(ck)
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestConsoleCookieSessionCSRF: the console's cookie session works on the API; a change
// with the cookie but without the CSRF header (or with another session's) is 403, with
// it is done; bearer tokens need no CSRF header; a cookie login must be a JSON request.
func TestConsoleCookieSessionCSRF(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	c := http.DefaultClient
	ck, csrf := cookieLogin(t, c, e.url(""), "admin@localhost", testAdminPassword)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Errorf("session cookie over plain HTTP: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Strict, /, not Secure",
			ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure)
	}

	code, b := cookieCall(t, c, "GET", e.url("/api/v1/me"), ck, "", nil)
	var me struct {
		Email     string `json:"email"`
		CSRFToken string `json:"csrf_token"`
	}
	if err := json.Unmarshal(b, &me); code != 200 || err != nil || me.Email != "admin@localhost" || me.CSRFToken != csrf {
		t.Fatalf("GET /me with the cookie: %d %s (want the admin and the login's csrf_token)", code, b)
	}

	user := map[string]any{"first_name": "Bram", "last_name": "Visser", "email": "bram@console.test"}
	code, b = cookieCall(t, c, "POST", e.url("/api/v1/tenants/default/users"), ck, "", user)
	if code != 403 || !strings.Contains(string(b), `"code":"csrf"`) {
		t.Fatalf("POST with the cookie, no CSRF header: %d %s; want 403 csrf", code, b)
	}
	// A second session's token does not fit this session.
	_, otherCSRF := cookieLogin(t, c, e.url(""), "admin@localhost", testAdminPassword)
	code, b = cookieCall(t, c, "POST", e.url("/api/v1/tenants/default/users"), ck, otherCSRF, user)
	if code != 403 {
		t.Fatalf("POST with another session's CSRF token: %d %s; want 403", code, b)
	}
	var list struct{ Items []struct{ Email string } }
	e.call("GET", "/api/v1/tenants/default/users?limit=100", nil, 200, &list)
	for _, u := range list.Items {
		if u.Email == "bram@console.test" {
			t.Fatal("a refused request created the user")
		}
	}
	code, b = cookieCall(t, c, "POST", e.url("/api/v1/tenants/default/users"), ck, csrf, user)
	if code != 201 {
		t.Fatalf("POST with the cookie and the CSRF header: %d %s", code, b)
	}
	// Bearer tokens need no CSRF header.
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Cor", "last_name": "Smit"}, 201, nil)

	// A cookie login that is not JSON (what a cross-site form can send) gets no session.
	req, _ := http.NewRequest("POST", e.url("/api/v1/auth/login"),
		strings.NewReader(`{"email":"admin@localhost","password":"`+testAdminPassword+`","session":"cookie"}`))
	req.Header.Set("Content-Type", "text/plain")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 415 || len(res.Cookies()) != 0 {
		t.Fatalf("text/plain cookie login: %d, cookies %v; want 415 and none", res.StatusCode, res.Cookies())
	}

	// Logout with the cookie ends the session and clears the cookie.
	code, b = cookieCall(t, c, "POST", e.url("/api/v1/auth/logout"), ck, csrf, nil)
	if code != 204 {
		t.Fatalf("logout: %d %s", code, b)
	}
	if code, _ = cookieCall(t, c, "GET", e.url("/api/v1/me"), ck, "", nil); code != 401 {
		t.Fatalf("GET /me with the ended session's cookie: %d, want 401", code)
	}
}

// TestConsoleServedHTTPS: under HTTPS the console's answers carry the CSP, nosniff,
// Referrer-Policy and HSTS, the session cookie is Secure, and plain HTTP from the LAN is
// sent to HTTPS with 308.
func TestConsoleServedHTTPS(t *testing.T) {
	t.Parallel()
	h := startHTTPS(t, nil)
	code, hdr, body := h.do(h.secure, "GET", h.secureURL("/"), "", nil)
	if code != 200 || !bytes.Contains(body, []byte(`src="/js/app.js"`)) {
		t.Fatalf("GET / over HTTPS: %d %.200s", code, body)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy":   console.CSP,
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"Strict-Transport-Security": hstsValue,
	} {
		if got := hdr.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(hdr.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("the console's CSP allows unsafe-inline")
	}
	ck, _ := cookieLogin(t, h.secure, h.secureURL(""), "admin@localhost", testAdminPassword)
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie over HTTPS: Secure=%v HttpOnly=%v SameSite=%v; want all set, Strict", ck.Secure, ck.HttpOnly, ck.SameSite)
	}
	h.foreign.on.Store(true)
	code, hdr, _ = h.do(h.plain, "GET", h.url("/"), "", nil)
	if code != 308 || !strings.HasPrefix(hdr.Get("Location"), "https://") {
		t.Fatalf("GET / over plain HTTP from the LAN: %d Location %q; want 308 to https", code, hdr.Get("Location"))
	}
}

// TestConsoleStatic: every file is served with its type, gzip when asked for (and not
// when not), an ETag that answers 304, and no-cache; the console leaves other paths and
// methods alone.
func TestConsoleStatic(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	tr := &http.Transport{DisableCompression: true}
	c := &http.Client{Transport: tr}
	get := func(path string, hdr map[string]string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", e.url(path), nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, plain := get("/js/app.js", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("GET /js/app.js: %d %v", res.StatusCode, res.Header)
	}
	gz, zipped := get("/js/app.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if gz.Header.Get("Content-Encoding") != "gzip" || len(zipped) >= len(plain) || gz.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip asked: encoding %q, %d bytes of %d, Vary %q", gz.Header.Get("Content-Encoding"), len(zipped), len(plain), gz.Header.Get("Vary"))
	}
	if no, _ := get("/js/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); no.Header.Get("Content-Encoding") != "" {
		t.Error("gzip;q=0 got gzip")
	}
	tag := res.Header.Get("ETag")
	if tag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", tag, res.Header.Get("Cache-Control"))
	}
	if nm, b := get("/js/app.js", map[string]string{"If-None-Match": tag}); nm.StatusCode != 304 || len(b) != 0 {
		t.Fatalf("If-None-Match: %d, %d bytes", nm.StatusCode, len(b))
	}
	if nf, _ := get("/js/nothing.js", nil); nf.StatusCode != 404 {
		t.Errorf("unknown file: %d", nf.StatusCode)
	}
	if api, _ := get("/api/v1/openapi.json", nil); api.StatusCode != 200 || api.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("the API's own path: %d, CSP %q", api.StatusCode, api.Header.Get("Content-Security-Policy"))
	}
	req, _ := http.NewRequest("POST", e.url("/"), nil)
	post, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != 405 || post.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow %q", post.StatusCode, post.Header.Get("Allow"))
	}
}

// TestConsoleLoginLogout drives the login page in Chromium: a wrong password shows the
// API's error at the password field, the right one lands on the user list with an
// HttpOnly, SameSite=Strict cookie, and logout returns to the login page with the
// session ended. The page runs under its CSP with no error in the console.
func TestConsoleLoginLogout(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	b := newBrowser(t, e, "")
	b.open("#/login", "#/login")
	b.a11yCheck("login")
	b.screenshot("console-login")
	b.do("wrong password",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "admin@localhost"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "not the password"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"][aria-invalid="true"]`)))
	if got := b.text(`input[name="password"] ~ .error`); !strings.Contains(got, "wrong email or password") {
		t.Fatalf("error at the password field = %q", got)
	}
	if got := eval[string](b, `document.activeElement.name`); got != "password" {
		t.Errorf("focus after the error is on %q, want the password field", got)
	}
	b.do("right password",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name="password"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), testAdminPassword),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		b.waitRoute("#/users"))
	if got := b.text("#users-table"); !strings.Contains(got, "admin@localhost") {
		t.Errorf("user list: %q", got)
	}
	b.a11yCheck("users")
	b.screenshot("console-users")
	var session *network.Cookie
	for _, c := range b.cookies() {
		if c.Name == "dialtone_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/" {
		t.Fatalf("session cookie in the browser: %+v", session)
	}
	if got := eval[string](b, `document.cookie`); strings.Contains(got, "dialtone_session") {
		t.Error("script can read the session cookie")
	}
	// A reload keeps the session (the cookie) and the CSRF token (from /me).
	b.open("#/users", "#/users")
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), b.waitRoute("#/login"))
	for _, c := range b.cookies() {
		if c.Name == "dialtone_session" {
			t.Errorf("session cookie still set after logout: %+v", c)
		}
	}
	ck := &http.Cookie{Name: "dialtone_session", Value: session.Value}
	if code, _ := cookieCall(t, http.DefaultClient, "GET", e.url("/api/v1/me"), ck, "", nil); code != 401 {
		t.Errorf("the logged-out session still answers: %d", code)
	}
	if p := b.problems(); len(p) > 0 {
		t.Errorf("the page reported: %q", p)
	}
}

// TestConsoleLanguageAndCSP: the login page's language switcher turns the page Dutch;
// the page runs under its CSP (nothing refused, no error) and its first load, compressed,
// stays under 150 KB.
func TestConsoleLanguageAndCSP(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	b := newBrowser(t, e, "")
	b.open("#/login", "#/login")
	if got := b.text("main h1"); got != "Log in to Dialtone" {
		t.Fatalf("login title %q", got)
	}
	// What the first load transferred (headers and gzip bodies), by the browser's count.
	transferred := eval[float64](b, `performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
		.reduce((n, e) => n + e.transferSize, 0)`)
	t.Logf("first load of the console: %.0f bytes transferred", transferred)
	if transferred <= 0 || transferred > 150*1000 {
		t.Errorf("first load transferred %.0f bytes; the budget is 150 KB", transferred)
	}
	if enc := eval[[]string](b, `performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js') && e.encodedBodySize >= e.decodedBodySize).map((e) => e.name)`); len(enc) > 0 {
		t.Errorf("not compressed: %v", enc)
	}
	b.do("switch to Dutch", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('lang-login');
		s.value = 'nl'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="nl"] main[data-route="#/login"]`)))
	if got := b.text("main h1"); got != "Inloggen bij Dialtone" {
		t.Errorf("login title in Dutch %q", got)
	}
	if got := b.text(`label[for="lang-login"]`); got != "Taal" {
		t.Errorf("language label in Dutch %q", got)
	}
	b.a11yCheck("login (nl)")
	// Numbers and dates in the language's locale (the same module instance as the page's).
	if got := runB(b, "format", chromedp.Evaluate[string](`import('/js/i18n.js').then((m) => m.fmtNumber(1234.5) + ' ' +
		m.fmtDate(new Date(Date.UTC(2026, 2, 1, 12)), {dateStyle: 'long', timeZone: 'UTC'}))`, chromedp.EvalAwaitPromise)); got != "1.234,5 1 maart 2026" {
		t.Errorf("Dutch number and date: %q", got)
	}
	// The choice holds over a reload.
	b.open("#/login", "#/login")
	if got := b.text("main h1"); got != "Inloggen bij Dialtone" {
		t.Errorf("after a reload the title is %q", got)
	}
	for _, p := range b.problems() {
		t.Errorf("the page reported: %s", p)
	}
	// The CSP is really enforced: inline script in the page is refused and reported.
	b.do("inline script", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.createElement('script');
		s.textContent = 'window.inlineRan = true'; document.body.append(s); })()`))
	if eval[bool](b, `window.inlineRan === true`) {
		t.Error("inline script ran under the console's CSP")
	}
	waitFor(t, "the CSP refusal in the console", func() bool {
		return slices.ContainsFunc(b.problems(), func(p string) bool { return strings.Contains(p, "Content Security Policy") })
	})
}

// mailLink waits for the next mail to addr and returns its set-password link.
func mailLink(t *testing.T, mails chan gotMail, addr string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m := <-mails:
			if m.to != addr {
				continue
			}
			body := strings.ReplaceAll(strings.ReplaceAll(string(m.data), "=\r\n", ""), "=3D", "=")
			loc := tokenRE.FindStringIndex(body)
			if loc == nil {
				t.Fatalf("no set-password link in the mail to %s:\n%s", addr, body)
			}
			start := strings.LastIndex(body[:loc[0]], "http")
			return body[start:loc[1]]
		case <-deadline:
			t.Fatalf("no mail to %s", addr)
		}
	}
}

// TestForgotPassword: POST /auth/forgot-password answers 202 alike for a known and an
// unknown address, mails the known one a set-password link (the password still works
// until the link is used), mails one address at most 3 times an hour and refuses a source
// after 5 asks.
func TestForgotPassword(t *testing.T) {
	t.Parallel()
	addr, mails := startSMTP(t)
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.SMTP = "smtp://" + addr; c.MailFrom = "dialtone@pbx.test" })
	ask := func(email string) (int, string) {
		code, b := e.raw("POST", "/api/v1/auth/forgot-password", "application/json", []byte(`{"email":"`+email+`"}`))
		return code, string(b)
	}
	codeKnown, known := ask("admin@localhost")
	codeUnknown, unknown := ask("nobody@example.com")
	if codeKnown != 202 || codeUnknown != 202 || known != unknown {
		t.Fatalf("known address: %d %s; unknown: %d %s; want the same 202", codeKnown, known, codeUnknown, unknown)
	}
	link := mailLink(t, mails, "admin@localhost")
	if !strings.Contains(link, "/set-password?token=") {
		t.Fatalf("link %q", link)
	}
	// Asking changed no password.
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": testAdminPassword}, 200, nil)
	ask("admin@localhost")
	ask("admin@localhost")
	mailLink(t, mails, "admin@localhost")
	mailLink(t, mails, "admin@localhost")
	if code, b := ask("admin@localhost"); code != 202 { // the fourth within the hour: answered, not mailed
		t.Fatalf("fourth ask: %d %s", code, b)
	}
	if code, b := ask("admin@localhost"); code != 429 {
		t.Fatalf("sixth ask from one source: %d %s; want 429", code, b)
	}
	select {
	case m := <-mails:
		t.Errorf("a fourth mail within the hour went to %s", m.to)
	default:
	}
	if code, _ := ask(""); code != 429 {
		t.Errorf("a blocked source's ask: %d, want 429", code)
	}
}

// TestConsoleSetPasswordFromMail: the welcome mail's link opens the console's
// set-password page, which takes the token out of the address bar, shows a mismatch at
// its field, sets the password; the user then logs in and, with role user, lands on
// their own page (#/me). The forgot-password page sends the same kind of link.
func TestConsoleSetPasswordFromMail(t *testing.T) {
	t.Parallel()
	addr, mails := startSMTP(t)
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.SMTP = "smtp://" + addr; c.MailFrom = "dialtone@pbx.test" })
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Kim", "last_name": "Bos",
		"email": "kim@example.com", "role": "user", "extensions": []string{"202"}}, 201, nil)
	link := mailLink(t, mails, "kim@example.com")
	b := newBrowser(t, e, "")
	b.do("open the mailed link", chromedp.Navigate(link), b.waitRoute("#/set-password"))
	if href := eval[string](b, `location.href`); strings.Contains(href, "token") {
		t.Errorf("the token stays in the address bar: %s", href)
	}
	b.a11yCheck("set password")
	const pw = "kims own long password"
	b.do("passwords differ",
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), pw),
		chromedp.SendKeys(chromedp.CSS(`input[name="again"]`), pw+"x"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="again"][aria-invalid="true"]`)))
	b.do("set the password",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name="again"]').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`input[name="again"]`), pw),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitText("#setpw-done", "kim@example.com"))
	if got := b.text("#setpw-done"); !strings.Contains(got, "kim@example.com") {
		t.Errorf("after setting: %q", got)
	}
	b.open("#/login", "#/login")
	b.do("log in as kim",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "kim@example.com"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), pw),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		// The self-service page is its own screen; whichever view #/me is, it rendered.
		waitJS(`location.hash === '#/me' && !!document.getElementById('main').dataset.route`))
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), b.waitRoute("#/login"))

	b.do("forgot password", chromedp.Click(chromedp.CSS(`a[href="#/forgot-password"]`)), b.waitRoute("#/forgot-password"))
	b.a11yCheck("forgot password")
	b.do("ask for a link",
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "kim@example.com"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		waitText("#forgot-done", "on its way"))
	if got := mailLink(t, mails, "kim@example.com"); !strings.Contains(got, "/set-password?token=") {
		t.Errorf("forgot-password mail link %q", got)
	}
	for _, p := range b.problems() {
		t.Errorf("the page reported: %s", p)
	}
}

// TestConsoleViewAsCookie: view-as from a cookie session puts the view-as session in the
// cookie and keeps the admin's aside; the console reloads as that user with the banner on
// the page, and "return to your own account" restores the admin's session and ends the
// view-as one. A bearer session cannot ask for a cookie view-as.
func TestConsoleViewAsCookie(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	var anna struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "de Vries",
		"email": "anna@console.test", "role": "user", "password": "annas long password"}, 201, &anna)
	req, _ := http.NewRequest("POST", e.url("/api/v1/auth/view-as"), strings.NewReader(`{"user_id":"`+anna.ID+`","session":"cookie"}`))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 || len(res.Cookies()) != 0 {
		t.Fatalf("cookie view-as from a bearer session: %d %v", res.StatusCode, res.Cookies())
	}

	br := newBrowser(t, e, "")
	br.login("admin@localhost", testAdminPassword, "#/users")
	if n := br.count("#banner:not([hidden])"); n != 0 {
		t.Fatal("the view-as banner shows for the admin's own session")
	}
	// The ⋮ menu's "view as" (the users screens) calls the same API through api.js.
	br.do("view as Anna", chromedp.Evaluate[chromedp.Void](`void import('/js/api.js').then((m) =>
			m.api('POST', '/auth/view-as', {user_id: `+jsString(anna.ID)+`, session: 'cookie'}))
		.then(() => { history.replaceState(null, '', '/'); location.reload(); })`),
		chromedp.WaitVisible(chromedp.CSS(`#banner:not([hidden]) #viewas-return`)),
		waitText("#banner", "Anna de Vries"))
	br.do("as Anna", waitJS(`location.hash === '#/me' && !!document.getElementById('main').dataset.route`))
	br.a11yCheck("view-as banner")
	var viewAsCookie string
	for _, c := range br.cookies() {
		if c.Name == "dialtone_session" {
			viewAsCookie = c.Value
		}
	}
	ck := &http.Cookie{Name: "dialtone_session", Value: viewAsCookie}
	code, b := cookieCall(t, http.DefaultClient, "GET", e.url("/api/v1/me"), ck, "", nil)
	if code != 200 || !strings.Contains(string(b), `"view_as_by"`) || !strings.Contains(string(b), "anna@console.test") {
		t.Fatalf("GET /me with the view-as cookie: %d %s", code, b)
	}
	br.do("return to own account", chromedp.Click(chromedp.CSS("#viewas-return")), br.waitRoute("#/users"))
	if n := br.count("#banner:not([hidden])"); n != 0 {
		t.Error("the banner stays after returning")
	}
	if code, _ = cookieCall(t, http.DefaultClient, "GET", e.url("/api/v1/me"), ck, "", nil); code != 401 {
		t.Errorf("the view-as session still answers after returning: %d", code)
	}
	var me struct{ Email string }
	for _, c := range br.cookies() {
		if c.Name == "dialtone_session" {
			_, b = cookieCall(t, http.DefaultClient, "GET", e.url("/api/v1/me"), &http.Cookie{Name: c.Name, Value: c.Value}, "", nil)
			json.Unmarshal(b, &me)
		}
		if c.Name == "dialtone_home" {
			t.Errorf("the home cookie stays after returning: %+v", c)
		}
	}
	if me.Email != "admin@localhost" {
		t.Errorf("after returning the session is %q's, want the admin's", me.Email)
	}
	for _, p := range br.problems() {
		t.Errorf("the page reported: %s", p)
	}
}

// noOverflow is true when the page needs no sideways scrolling.
const noOverflow = `document.documentElement.scrollWidth <= document.documentElement.clientWidth`

// TestConsoleKeyboardAndPhone: on a phone-sized screen (390×844) the login page and the
// user list fit without sideways scrolling, and the login works by keyboard alone with
// the focus visible.
func TestConsoleKeyboardAndPhone(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	b := newBrowser(t, e, "")
	b.do("phone-sized screen", chromedp.EmulateViewport(390, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	b.open("#/login", "#/login")
	if !eval[bool](b, noOverflow) {
		t.Errorf("the login page scrolls sideways at 390 px: %v wide", eval[int](b, `document.documentElement.scrollWidth`))
	}
	if got := eval[string](b, `document.activeElement.name`); got != "email" {
		t.Fatalf("focus at start is on %q, want the email field", got)
	}
	b.do("type the email, Tab", chromedp.KeyEvent("admin@localhost"), chromedp.KeyEvent("\t"))
	if got := eval[string](b, `document.activeElement.name`); got != "password" {
		t.Fatalf("Tab from the email field went to %q", got)
	}
	if eval[string](b, `getComputedStyle(document.activeElement).outlineStyle`) == "none" {
		t.Error("the focused field shows no outline")
	}
	b.do("type the password, Enter", chromedp.KeyEvent(testAdminPassword), chromedp.KeyEvent("\r"), b.waitRoute("#/users"))
	if !eval[bool](b, noOverflow) {
		t.Errorf("the user list scrolls sideways at 390 px: %v wide", eval[int](b, `document.documentElement.scrollWidth`))
	}
	b.a11yCheck("users (phone)")
}

// TestConsoleTenantSwitcher: a person who manages other tenants gets a tenant menu; the
// screens then work on the chosen tenant (the user list shows its people, not the home
// tenant's), and the choice holds over a reload.
func TestConsoleTenantSwitcher(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	e.call("POST", "/api/v1/tenants", map[string]any{"slug": "acme", "name": "Acme", "sip_domain": "acme.test"}, 201, nil)
	e.call("POST", "/api/v1/tenants/acme/users", map[string]any{"first_name": "Piet", "last_name": "Acme",
		"email": "piet@acme.test"}, 201, nil)
	b := newBrowser(t, e, "")
	b.login("admin@localhost", testAdminPassword, "#/users")
	if got := b.text("#users-table"); !strings.Contains(got, "admin@localhost") || strings.Contains(got, "piet@acme.test") {
		t.Fatalf("home tenant's list: %q", got)
	}
	b.a11yCheck("users with the tenant menu")
	b.do("switch to acme", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById('tenant-switch');
		s.value = 'acme'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`),
		waitText("#users-table", "piet@acme.test"))
	if got := b.text("#users-table"); strings.Contains(got, "admin@localhost") {
		t.Errorf("acme's list shows the home tenant's admin: %q", got)
	}
	b.open("#/users", "#/users")
	if got := b.text("#users-table"); !strings.Contains(got, "piet@acme.test") {
		t.Errorf("after a reload the list is %q, want acme's", got)
	}
}
