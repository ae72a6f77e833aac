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
// A panic while serving a connection (in a parser, a filter, an Authenticator) drops that
// connection only, logged and counted by internal/crash; the server and its other
// connections go on.
//
// For metrics, Options.Observe is told each bind's and search's result code and time;
// Follower.Loaded says whether the directory holds the store's state (cmd/dialtone's
// /readyz).
package ldapdir
