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
// Whether it still pays its way is open. Measured again (2026-12, bench/http.sh: wrk
// -c64 fetching 1000 Yealink configs, Dialtone as built and the same tree built with
// the norawtcp tag, measured in turn): on two cores loaded by other work, 8 rounds of
// 10 s gave server CPU per request 18.9 µs with it against 23.5 µs without (medians;
// median without/with 1.22×); on the quiet machine, two runs of 3 rounds of 5 s gave
// 13.0–14.6 µs with it against 13.3–18.2 µs without (without/with per round 0.99–1.32×,
// median about 1.08×) and a rate with/without of 1.00–1.21× (median about 1.08×). A
// path kept for speed alone stays while it is worth 15 % or more, and the quiet runs
// say it is not: a longer quiet run decides (`bench/run.sh ./bin/dialtone http`, whose
// "rawtcp:" line prints both), and if it confirms, the package goes. The norawtcp build
// tag exists for that comparison only (Listener then returns the listener as it is).
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
