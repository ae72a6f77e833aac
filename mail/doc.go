// Package mail owns the mail Dialtone sends: the welcome mail a new user with an email
// gets (login name, tenant, extensions and a one-time link to set their password), the
// reset mail an admin sends instead of showing a reset password (login name and the same
// kind of link), their templates per language, the outbox they wait in, and the sender
// that hands them to an SMTP server.
//
// It is a package of its own because it is a service with its own life: mail is queued
// in the store by the API (which never waits for SMTP) and sent by Run in the background,
// with retries and exponential backoff, whenever a server takes it. Without --smtp, or
// while the server refuses or hangs, mail waits in the outbox (GET …/outbox).
//
// It does not own the set-password endpoint (admin spends the link) nor the link and
// outbox records themselves (store/mail.go keeps them, so deleting a user removes them).
//
// Secrets: a link's token is made when the mail is handed over, put into that one copy
// of the message, and stored only as a hash; the outbox body holds a placeholder. No
// password ever goes into a mail. The SMTP password in --smtp never reaches a log line.
//
// SMTP follows RFC 5321 (one session per round, several transactions in it, RSET after
// a refused one), STARTTLS (RFC 3207) when the server offers it and implicit TLS for
// smtps:// (RFC 8314 §3.3), AUTH PLAIN (RFC 4954) when a user is given. Every step has a
// deadline, so a server that hangs costs one timeout, never a stuck sender. A panic in a
// round ends that round only (internal/crash); its mail stays in the outbox for the next.
//
// For metrics, Mailer.Stats gives delivery attempts sent and failed since start (no store
// read), Mailer.Queue the outbox's depth and earliest due time (a keys-only scan).
package mail
