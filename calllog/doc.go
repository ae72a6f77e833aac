// Package calllog keeps the call history (call detail records): it is the
// sip.CallObserver that cmd/dialtone wires into the proxy, and it writes one
// store.CallRecord per call when the call ends.
//
// It is a package of its own, not part of sip, because it is a consumer of calls, not a
// part of routing them: the proxy tells it each step (sip.CallEvent) and never waits for
// it, and the store writes happen on its own goroutine. The API that reads the history is
// package admin's (GET /api/v1/tenants/{slug}/calls, GET /api/v1/me/calls); the records,
// their keys and the retention sweep (call_history_days, default 90) are package store's
// (store/cdr.go).
//
// A call is followed in memory from CallStarted (the caller, the callee as routed, the
// start) through CallRinging (the phones that rang) and CallAnswered (the answer time
// and the phones that answered) to CallEnded (the end and the final status, which gives
// the result: answered, busy, no_answer, cancelled or failed; see Result). At most
// MaxInFlight calls are followed at once (default 20,000, about 1 KiB each); when the
// table is full, calls older than StaleAfter (24 h: a call whose end was never told) are
// forgotten, and a call that still finds no room is recorded from its CallEnded alone
// (start = end, no phones), counted as untracked. Records outlive a user's deletion (their
// per-user index goes), as the audit log does, until call_history_days.
//
// CallEvent does no I/O: a finished record goes into a bounded queue (default 4,096)
// and Run's writer goroutine writes what has queued up, up to 256 records per store
// transaction, without waiting for the disk (store.UpdateLazy: a power cut may lose the
// last second of history, never half a record). When the queue is full a finished call
// is dropped, counted (Stats.Dropped) and logged at most every ten seconds. A record
// the store refuses (a value out of bounds) is counted (Stats.Failed) and logged at most
// every ten seconds, and the rest of its batch is written. A panic in CallEvent or in a
// write ends that event or that batch only (internal/crash). When Run's context ends it writes what is still
// queued; calls in flight then are not recorded.
package calllog
