// Package flex is hot desking: a user walks up to a shared (flex) phone and logs in with
// extension + PIN; the phone re-provisions with the user's profile and goes back to its
// guest profile at logout or at the tenant's auto-logout time.
//
// It owns the rules: the PIN check and its locks, counted per source and per extension. A
// source is the phone a code was dialled at (its MAC), or the caller's address (IPv6 by /64)
// for a login over the API. 5 wrong PINs from one source within 15 minutes lock that source
// from flex login for 15 minutes, whatever extension it tries; 10 wrong PINs for one
// extension within 15 minutes, from all sources together, lock the extension for 15
// minutes. A source's own lock outlasts the extension's window, so one phone alone cannot
// lock a colleague out. A good PIN clears its extension's count (not the source's). The
// extension's lock is lifted early by its user's password login to the API or by an admin
// (DELETE …/users/{id}/pin-lock); both live in package admin over store.UnlockExtensions.
// The counters are store records with a TTL (they survive a restart and go by themselves).
// Locks are audited (flex.locked), single wrong guesses are not. It also owns one phone per
// user unless the tenant allows several, the audit of every login and logout, and the
// auto-logout loop. It records sessions through the store
// (store.FlexSession); the store's change events tell the registrar to send check-sync
// and the provisioning cache to drop the phone's files.
//
// It does not own how a login arrives: the SIP registrar parses the *55 codes and the
// admin API takes POST …/login; both call Desk.
//
// Desk.Stats counts committed logins by outcome (ok, wrong_pin, locked) and the locks
// wrong PINs started, for metrics.
package flex
