// Package admin is Dialtone's REST API under /api/v1/: sessions (login, logout, view-as),
// the roles and permissions of ROLES.md (department scope, no escalation, managed
// tenants, extra permissions), tenants, departments, users, extensions, phones, photos,
// password resets (shown once, or mailed as a one-time set-password link; setpassword.go,
// resetpassword.go), the audit log and the OpenAPI 3 description of all of it.
//
// Photos are checked by decoding, scaled and stored as JPEG in the store (store/photo.go),
// which lives in the data directory: a backup carries them, and deleting a user removes
// their photo in the same transaction.
//
// It owns the HTTP edge of these records: decoding and bounding requests, mapping store
// errors to statuses in one table (errors.go), deciding who may do what (rbac.go), and
// writing every change to the audit log in the transaction of the change, with secrets
// redacted (audit.go).
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
