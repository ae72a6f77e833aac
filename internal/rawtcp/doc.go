// Package rawtcp wraps a TCP listener so that its connections read and write
// with raw system calls instead of going through the Go scheduler's syscall
// bookkeeping (the HTTP listener's).
//
// Every socket the net package makes is non-blocking, so a read or write on one
// returns at once: data, EAGAIN, or an error. Go still treats each such call as
// one that might block (entersyscall/exitsyscall), and on a small machine busy
// with many short requests that bookkeeping is what costs: the scheduler's
// monitor thread wakes to take the processor away from a call that is in fact
// about to return, hands it to another thread, and the two trade places again.
//
// It pays its way, measured again (2026-12, two cores shared with other work,
// bench/http.sh: wrk -c64 fetching 1000 Yealink configs, Dialtone as built and the
// same tree built with the norawtcp tag, measured in turn, 8 rounds of 10 s over two
// runs): server CPU per request 18.9 µs with it against 23.5 µs without (medians;
// without/with per round 0.84–1.48×, median 1.22×). The request rate, which on a
// loaded machine follows whatever else runs, gave with/without 0.42–1.90× (median
// 1.09×). A path kept for speed alone stays while it is worth 15 % or more:
// re-measure with `bench/run.sh ./bin/dialtone http`, whose "rawtcp:" line prints
// both. The norawtcp build tag exists for that comparison only (Listener then
// returns the listener as it is).
//
// The calls go through syscall.RawConn: when the kernel answers EAGAIN, RawConn
// waits on the runtime's network poller exactly as the net package does
// (deadlines, Close and all), so only the bookkeeping is skipped, never the
// waiting. Everything else (deadlines, addresses, sendfile through ReadFrom,
// Close) is the *net.TCPConn's own.
//
// The SIP registrar's UDP sockets were tried the same way and gained nothing
// measurable (CPU per registration unchanged at 48 µs): a REGISTER's cost is
// its parsing and digest, not its four system calls. They keep the net
// package's calls.
//
// Linux only; elsewhere Listener returns the listener as it is.
package rawtcp
