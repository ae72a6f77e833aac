package admin

import "context"

// The API needs these from other packages; cmd/dialtone passes implementations in
// Config. A nil one makes its routes answer 503.

// Registrations lists the tenant's live SIP registrations (the registrar).
type Registrations interface {
	Registrations(tenant string) any
}

// Resyncer tells a registered phone to fetch its configuration again (SIP NOTIFY
// check-sync from the registrar). It returns an error (ideally a *Problem, e.g. 409 "not
// registered") when the phone cannot be reached.
type Resyncer interface {
	Resync(ctx context.Context, mac string) error
}

// PhoneActions resyncs or reboots many phones, paced (the registrar's remote actions):
// StartAction queues them and returns the action's report; PhoneAction reports one of
// the tenant's recent actions (false when unknown). A report is JSON-ready.
type PhoneActions interface {
	StartAction(tenant, action string, macs []string, rate int) (any, error)
	PhoneAction(tenant, id string) (any, bool)
}

// FlexDesk logs users in and out of flex phones (the registrar's flex sessions). Login
// checks the PIN itself, with its own throttling, and returns a *Problem (403 "Wrong
// extension or PIN", 429 "Locked, try later") when it refuses. Wrong PINs are counted
// against source, the caller's address, as well as the extension.
type FlexDesk interface {
	Login(ctx context.Context, tenant, mac, extension, pin, source string) error
	Logout(ctx context.Context, tenant, mac string) error
}

// Outbox lists mail not (yet) handed to an SMTP server.
type Outbox interface {
	Outbox(tenant, cursor string, limit int) (items any, nextCursor string, err error)
}

// Welcomer queues mail with a one-time set-password link for a user with an email
// (package mail): the welcome mail of a new user, and the reset mail after an admin reset
// their password. Nil: no welcome mail is queued, and a reset cannot be mailed (503).
type Welcomer interface {
	QueueWelcome(tenant, userID string) error
	// QueueWelcomes queues many at once (an import's) and answers why, per user, a
	// mail was not queued.
	QueueWelcomes(tenant string, userIDs []string) map[string]error
	QueueReset(tenant, userID string) error
}
