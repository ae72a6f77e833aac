// Package console is the web console: the single-page application admins and users work
// from in a browser, served at / by the same HTTP server as the admin API.
//
// It is its own package, not part of admin, because it holds no rule of its own: it is
// static files (HTML, CSS, JavaScript modules, the EN and NL catalogues) embedded in the
// binary and talking only to the JSON API under /api/v1/, whose package stays the one
// place where anything is decided. Keeping them apart keeps the API's package free of
// front-end assets and the console free of any second copy of the API's rules.
//
// Serving: every file under web/ is read once at start; a gzip copy is made then for
// those that shrink, and sent to browsers that ask for gzip (Accept-Encoding, RFC 9110
// section 12.5.3), with Vary: Accept-Encoding. Brotli is not offered: the standard
// library has no encoder. Names are not content-hashed, so every answer is
// Cache-Control: no-cache with a strong ETag and 304 on If-None-Match (RFC 9110 section
// 13.1.2). Every answer carries a Content-Security-Policy without 'unsafe-inline'
// (no inline script or style anywhere in web/), X-Content-Type-Options: nosniff,
// Referrer-Policy: no-referrer and frame-ancestors 'none'. HSTS and the plain-HTTP
// redirect are cmd/dialtone's, as for the API.
//
// The handler answers "/" (index.html), "/set-password" (index.html too: the link of the
// welcome and reset mails, whose token the page moves out of the address bar before it
// does anything) and the files' own paths, GET and HEAD only; every other path is left to
// the other mounts.
//
// The browser side: js/app.js (hash router, nav, view-as banner, tenant switcher),
// js/routes.js (the views, each js/views/<name>.js exporting {route, nav, permission,
// render}), js/api.js (fetch with the CSRF header; ApiError from the API's error shape),
// js/i18n.js (t, fmtDate, fmtNumber, setLanguage) and js/ui.js (h, field, showErrors,
// confirmDialog, toast, menu); js/screens.js holds what the admin screens share (paged
// tables, progress bars, the "key = value" editor of raw phone settings), and
// screens.css their styles; js/picker.js is the two-column chooser (assigned on the
// left, available on the right) of a user's Assignments tab. The users views
// (views/users.js, usernew.js, user.js) search and sort on the server (GET …/users?q=&sort=)
// and read the permission names from the API's own OpenAPI document. A view renders into
// a node of its own inside main, so a render that a newer one overtook (a tenant switch
// while a list loads) writes into a detached node, never beside the newer one. Sessions
// are the API's cookie sessions (admin/cookiesession.go).
package console
