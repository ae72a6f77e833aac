// Package admin is Dialtone's REST API under /api/v1/: sessions (login, logout, view-as),
// the roles and permissions of docs/roles.md (department scope, no escalation, managed
// tenants, extra permissions), tenants, departments, users, extensions, phones, photos,
// password resets (shown once, or mailed as a one-time set-password link; setpassword.go,
// resetpassword.go), the audit log and the OpenAPI 3 description of all of it.
//
// Nobody takes over a colleague's account to gain what they lack. Whatever lets its holder
// log in as another person or act with their rights — a password reset (shown or mailed),
// setting their password or PIN, a new welcome link, their SIP credentials, their email,
// extra permissions or managed tenants — one rule decides (rbac.go, mayTouchCredentials):
// the person must not rank above the admin, must hold no extra permission the admin lacks
// and manage no tenant the admin does not, and at the admin's own rank must belong to no
// department outside the admin's reach. A refusal is a 403 naming the reason. A System
// Owner, holding everything in the tenant, is stopped only by another tenant they do not
// manage. One's own password, PIN and email change through PATCH /api/v1/me (a view-as
// session's "me" falls under the rule); wrong old passwords there count as failed logins
// of the source address, on the login throttle.
//
// PINs (pinlock.go): a PIN set by an admin, the user or a reset follows the tenant's
// policy (store.CheckNewPIN; pin_min_length), and the flex lock of a user's extensions is
// lifted by their password login or DELETE …/users/{id}/pin-lock (users.manage), each
// audited as flex.unlocked. An API flex login passes the caller's address to the flex desk,
// which counts wrong PINs against it.
//
// Photos: the caller's right to change one is checked before the upload is decoded, and
// the header's size before the pixels (over 4096×4096 is 422). They are checked by
// decoding, scaled and stored as JPEG in the store (store/photo.go), which lives in the
// data directory: a backup carries them, and deleting a user removes their photo in the
// same transaction.
//
// Phones and provisioning secrets: a phone's own web admin password is in its record for
// phones.manage; its provisioning (HTTP Digest) credentials are answered once, when it is
// added and by POST …/phones/{mac}/provisioning-credentials, never by GET and never into
// the audit log. POST …/provisioning-token/rotate (tenant.settings) answers the tenant with
// the new token and when the old one stops working. A phone moved to another tenant gets
// new ones of both (phonemove.go), shown in the move's answer.
//
// TLS (tls.go): GET /api/v1/tls shows tenant admins the certificate phones and browsers
// trust (source, CA PEM, SHA-256 fingerprint, expiry, the /ca.pem URL). A tenant's
// provisioning_https_only is refused (422) while the server has no HTTPS listener
// (Config.SecureBaseURL empty); with it on, provisioning_url is https://. The API never
// sees a plain-HTTP request from off the box once HTTPS is on: cmd/dialtone redirects it.
//
// Phone models (phones.go, provisioning.go checkPhoneModel): a phone's model, on create,
// update, claim (adding a discovered MAC without a model takes the one the phone told)
// and in a CSV import, must be one of the model table (GET …/models), in any case; it is
// stored as the table writes it, with its make. Another is 422 unknown_model naming the
// field model and, in details.closest, the three nearest known models by edit distance.
//
// CSV import (import.go): ?on_duplicate=skip|update|create (default skip) says what a row
// matching an existing person does (userimport.OnDuplicate); an update is checked by the
// same role rules as PATCH (checkGrant) in the dry run before anything is written.
// ?async=true runs the same work as a job (importjobs.go): 202 at once, and
// GET …/users/import/jobs/{id} reports phase and rows done of total, then the report or
// the error; one job per tenant, one writing at a time, read only by who started it.
//
// Self-service (mephones.go): GET /api/v1/me/phones (mine and the flex phones I am at)
// and POST /api/v1/me/flex-logout. The audit log filters by subject, action prefix and
// since/until on the server (audit.go).
//
// Phones in bulk (phoneactions.go): POST …/phones/actions resyncs or reboots one phone,
// a department's, a model's or all, through the registrar's paced queue (PhoneActions;
// the tenant's action_rate), audited once with the count; GET …/phones/actions/{id} shows
// each phone's state. Firmware (firmware.go, firmwarestage.go): an upload for a model
// offers to make it the target, or with target=true does; a model's firmware can be
// staged for listed MACs or a percentage, rolled out or rolled back. Keys (userkeys.go):
// PUT …/users/{id}/keys sets a user's BLF and speed-dial keys (store.SetUserKeys checks
// them), by the user (self.manage) or users.manage. For the web console's users screens:
// GET …/users searches (q) and sorts (sort) the whole tenant with a cursor that carries the
// sort key (usersearch.go), from a per-tenant users index in memory (userindex.go) loaded
// at the tenant's first search and kept current by the store's change events, so a change
// is in the next search. Over 10,000 users (BenchmarkUserSearch…, one request through the
// listener on a shared 2-core machine, before → after the index): sorted by name 60 →
// 3.2 ms, by department descending 52 → 2.7 ms, two words 41 → 4.4 ms, one user 56 →
// 0.8 ms, the request's allocations 16.6 MB → 0.7 MB; a department's list (no q or sort,
// id order) of one user 93 → 0.2 ms. The index costs about 0.5 KB a user, bounded over
// all tenants (userIndexBudget); GET …/users/{id}/delete-preview lists what a delete would take
// (userdelete.go); extensions?free=true and phones?user_id= / ?unassigned=true feed the
// assignment pickers (phonefilter.go).
//
// It owns the HTTP edge of these records: decoding and bounding requests, mapping store
// errors to statuses in one table (errors.go), deciding who may do what (rbac.go), and
// writing every change to the audit log in the transaction of the change, with secrets
// redacted (audit.go).
//
// Sessions are bearer tokens, or for the web console a cookie (cookiesession.go): a login
// or view-as with {"session": "cookie"} sets an HttpOnly, SameSite=Strict cookie (Secure
// over TLS) and answers a CSRF token, which every state-changing request made with the
// cookie must send in X-CSRF-Token (else 403 csrf). POST /api/v1/auth/forgot-password
// (forgotpassword.go) mails a known login a set-password link, answers 202 whatever the
// address before looking it up (the mail and its audit follow from a queue, so the
// answer's time says nothing either), and is bounded per source and per address.
//
// Failed logins are struck per source before the password hash is spent (throttle.go,
// on internal/ratelimit.Strikes); a password check or hash refused by the store's
// password gate answers 429 "busy" with Retry-After (errors.go), and is no strike.
//
// It does not own the records (package store does), nor CSV parsing (package userimport,
// which it calls after its own permission and escalation checks), nor SIP, provisioning or
// mail: for registrations, resync, flex login, the outbox and welcome and reset mails it declares
// small interfaces (services.go) that cmd/dialtone fills with the other packages'
// implementations. An unset one answers 503, never a pretended success.
package admin
