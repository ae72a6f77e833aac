// Package ratelimit is the one place Dialtone bounds what a source may cost it. Every
// throttle in the binary is built from its three parts, so they behave alike and their
// memory has a ceiling whatever a flood looks like:
//
//   - Strikes counts failures (a wrong password, a bad digest, a scanned MAC) per key
//     within a window; the failure that reaches the limit blocks the key for a while.
//     Optionally only distinct tags count, so a phone asking again for its own unknown
//     file is not a scan. Where the check costs (a password hash), Attempt takes the
//     strike before it, so a burst cannot pass the limit whole while its first checks
//     still run; the caller Clears the key on success and Refunds the strike when the
//     check was never made (refused as busy).
//   - Conns caps the connections one source holds open at once; Listener applies it to
//     a net.Listener, closing an over-cap connection before a byte is read.
//   - Gate bounds how many expensive operations (an argon2id hash) run at once; a caller
//     that would wait longer than the gate's patience is told to come back later
//     (ErrBusy). DoFor gives a key (an account) at most one call in the gate, running or
//     waiting, and refuses a second at once: a flood at one account from many sources
//     holds one slot and its excess is answered without waiting.
//
// Sources are keyed by Source: an IPv4 address as it is, an IPv6 address by its /64,
// since one IPv6 host is handed a whole /64 and can pick a fresh address per request.
//
// # When a table is full
//
// Strikes keeps at most MaxKeys keys. A new key in a full table first sweeps entries
// whose window and block have both ended (at most once a second, so a flood does not
// turn every call into a walk of the table); if none could go, it evicts the stalest of
// a small sample of entries, preferring entries that are not blocked. So memory stays
// bounded, a source that is blocked stays blocked while any unblocked entry can give way,
// and an attacker with more addresses than MaxKeys can at worst shorten the counting
// windows of others — never open the door for himself. Conns does not need a policy:
// its table holds only sources with a connection open, which the listener's own
// connection limit bounds.
//
// A Strikes made with a Policy.Name counts the blocks it starts under that name, across
// the process (BlocksStarted, for metrics; 0 from the Strikes' creation).
package ratelimit
