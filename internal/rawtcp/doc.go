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
// Measured with wrk against the config fetch on two cores, it was a quarter of
// the server's CPU per request.
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
