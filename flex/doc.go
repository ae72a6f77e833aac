// Package flex is hot desking: a user walks up to a shared (flex) phone and logs in with
// extension + PIN; the phone re-provisions with the user's profile and goes back to its
// guest profile at logout or at the tenant's auto-logout time.
//
// It owns the rules: the PIN check and its lock (5 wrong PINs for one extension within 15
// minutes lock that extension's flex login for 15 minutes, whichever phone or address the
// guesses came from), one phone per user unless the tenant allows several, the audit of
// every login and logout, and the auto-logout loop. It records sessions through the store
// (store.FlexSession); the store's change events tell the registrar to send check-sync
// and the provisioning cache to drop the phone's files.
//
// It does not own how a login arrives: the SIP registrar parses the *55 codes and the
// admin API takes POST …/login; both call Desk.
package flex
