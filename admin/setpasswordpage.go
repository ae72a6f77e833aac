package admin

import (
	"github.com/valyala/fasthttp"
)

// SetPasswordPath is where the welcome mail's link points: {base-url}/set-password?token=….
const SetPasswordPath = "/set-password"

// setPasswordHTML is the page the link opens: a password field that posts the token from
// the address bar to POST /api/v1/auth/set-password. The token never leaves the page
// except in that request (no-referrer), and the page holds no data of its own.
const setPasswordHTML = `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>Set your password</title>
<style>body{font-family:sans-serif;max-width:28em;margin:3em auto;padding:0 1em}input,button{font-size:1em;padding:.4em;width:100%;box-sizing:border-box;margin:.3em 0}</style>
</head><body>
<h1>Set your password</h1>
<form id="f"><label>New password (10 characters or more)<input id="pw" type="password" autocomplete="new-password" minlength="10" maxlength="128" required></label>
<label>Once more<input id="pw2" type="password" autocomplete="new-password" required></label>
<button>Set password</button></form>
<p id="msg" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get("token") || "";
const msg = document.getElementById("msg");
document.getElementById("f").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const pw = document.getElementById("pw").value;
  if (pw !== document.getElementById("pw2").value) { msg.textContent = "The two passwords differ."; return; }
  const r = await fetch("/api/v1/auth/set-password", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token: token, password: pw})});
  const a = await r.json().catch(() => ({}));
  if (r.ok) { msg.textContent = "Your password is set. Log in as " + (a.email || "your email address") + "."; document.getElementById("f").remove(); }
  else { msg.textContent = (a.error && a.error.message) || ("Error " + r.status); }
});
</script></body></html>
`

// SetPasswordPage serves GET /set-password (the page the mailed link opens) and reports
// whether the request was for it; cmd/dialtone mounts it beside the API.
func (a *API) SetPasswordPage(ctx *fasthttp.RequestCtx) bool {
	if string(ctx.Path()) != SetPasswordPath {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
		return true
	}
	h := &ctx.Response.Header
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetBodyString(setPasswordHTML)
	return true
}
