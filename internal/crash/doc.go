// Package crash contains panics at the boundaries where Dialtone serves one piece of
// work: an HTTP request, a TFTP request or transfer, a SIP datagram or TCP connection and
// each goroutine the SIP server starts per message, an LDAP connection, a mail round, a
// store event subscriber, a control-socket command and each background loop. One panic
// (a bad template, a parser bug, a nil record) ends that piece of work only; HTTP, TFTP,
// SIP and LDAP keep serving, and the same service serves the next request.
//
// Used as a deferred call at the boundary:
//
//	defer crash.Recover(log, "sip", "datagram")
//	defer crash.RecoverWith(log, "http", "request", func() { /* answer 500 */ })
//
// A recovered panic is logged once at error level with the service, the place, the
// panic value and the goroutine's stack, never the request (its body may hold a
// password), and counted per service in dialtone_panics_total (Counts feeds it).
//
// Restart runs a background loop again after it panicked, one second later, so one bad
// record does not stop the loop for good (a loop that panics on every round logs once a
// second, not in a tight spin).
package crash
