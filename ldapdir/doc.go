// Package ldapdir serves the LDAP phonebook: colleagues find each other from every desk
// phone, and phones look up caller IDs.
//
// It owns the LDAP wire protocol (a read loop on go-asn1-ber framing with a bounded
// message size, BER replies encoded straight into a per-connection buffer), binds (the
// tenant's phonebook account, users by DN or e-mail, anonymous when the tenant allows it,
// throttled per source before the password is checked, busy (51) when the store's password
// gate is full; connections capped per source by Options.ConnsPerSource), the tenant subtrees
//
//	dc=dialtone
//	  o={slug}
//	    ou=people
//	      uid={user-id}
//	    ou={department}
//
// filter evaluation with schema matching (RFC 4511 §4.5.1.7, RFC 4517), the in-memory
// directory per tenant with prefix indexes on names and normalised numbers, kept current
// from the store's change events, and the vendor XML phonebooks (WriteXML).
//
// TLS: ServeTLS serves LDAPS (TLS from the first byte) and Serve offers StartTLS (RFC 4511
// §4.14, OID 1.3.6.1.4.1.1466.20037) when Options.TLS is set; both listeners share one
// Server, so per-source limits and the bind throttle count them together. A simple bind
// on a connection without TLS (RFC 4513 §5.1.3, §6.3.1) is checked against the tenant
// before any password is looked at (cleartext.go): people (a DN under ou=people or an
// e-mail address) are refused when the tenant sets UserNeedsTLS, the phonebook account
// when it sets PhonebookNeedsTLS, with resultCode confidentialityRequired (13) and a
// diagnostic naming ldaps:// and StartTLS. Such a refusal is no failed bind (no strike
// against the source). A person's name whose tenant cannot be told (an unknown tenant or
// address) is refused when any tenant needs TLS, so the answer does not tell which names
// exist.
//
// It does not own users or passwords (the store does; login passwords are checked through
// the Authenticator interface) nor HTTP (provisioning mounts WriteXML at
// /p/{token}/directory/{vendor}.xml).
//
// The directory is copy-on-write: a search takes the tenant's current snapshot with one
// atomic load and never blocks a writer; a change builds the next snapshot, so the next
// search sees it. The store publishes changes in commit order, so the last change the
// Follower applies for a person is the stored one; on store.OpReload (its callback
// panicked on a change) it loads every tenant again.
//
// Speed. A search is one read of the request, the whole answer (entries and done) built
// in the connection's buffered writer and sent with one write, then a read that finds
// nothing and parks the goroutine: three syscalls, the least Go's poller allows (Go sets
// TCP_NODELAY). slapd writes each entry apart (57 writes for 50 entries). Measured with
// make bench's LDAP part (ldapload's phone mix: half (|(cn=X*)(sn=X*)) with size limit
// 50, half (|(telephoneNumber=N)(mobile=N)); 32 connections; 10,000 people; slapd 2.5
// mdb, indexed, on the same two cores; 23 entries per search on both sides) on a machine
// shared with other work (load average 9–16), where absolute figures drift by half
// between runs: the server's CPU per search, measured before and after side by side in
// alternating rounds, fell by 16–25 % (32.4 to 24.3 µs, 19.0 to 15.3 µs, 19.3 to 16.1 µs
// in three runs); slapd's was 200–340 µs in the same hours. Bench medians of the CPU ratio
// were 13.5–14.5× after and 10.0–13.1× before; the last run after (load average 6.5):
// slapd 3,707 searches/s at 214 µs, Dialtone 36,918/s at 15.9 µs, rate ratio 12.0×, CPU
// ratio 13.5×, 22.97 and 23.01 entries per search. What made the difference (pprof, perf):
//
//   - An entry keeps its SearchResultEntry protocolOp encoded for the attribute selection
//     it was last sent with (wire.go): a reply is the message envelope and one copy, not
//     an encoding per entry.
//   - A filter the indexes answer exactly (node.exact: an OR of equality, ordering and
//     initial-substring assertions on indexed attributes, which is what phones send) sends
//     the index's candidates without evaluating the filter on them; only slots changed
//     since the indexes were built are evaluated (their index keys may be stale).
//   - Index binary searches compare each key's first 8 bytes packed in one word, held side
//     by side (index.go), instead of a scattered string per step (about 3 %).
//   - Four small allocations per search (the filter), none per entry.
//
// What is left is mostly the kernel and the runtime: the write on loopback (which delivers
// to the client in the same call) about 30 % of the server's CPU, reads 10 %, the
// scheduler, poller and sysmon 20–25 %; the search code itself about 25 %. Tried and left
// out for want of a measurable gain: setting deadlines once a second instead of per
// request, GOMAXPROCS=1. The rate ratio is bounded by the load tool, which shares the two
// cores: ldapload spends 20–27 µs of CPU per search against Dialtone and 120–250 µs
// against slapd, so Dialtone's rate cannot pass 2 cores / (its CPU + ldapload's), about
// 50,000/s here, some 10× slapd's 5,200/s on an idle machine. Under other load slapd's
// rate falls further than Dialtone's (rate ratio 11–17× in the runs above), so the CPU
// ratio is the figure to compare.
//
// A panic while serving a connection (in a parser, a filter, an Authenticator) drops that
// connection only, logged and counted by internal/crash; the server and its other
// connections go on.
//
// For metrics, Options.Observe is told each bind's and search's result code and time;
// Follower.Loaded says whether the directory holds the store's state (cmd/dialtone's
// /readyz).
package ldapdir
