package crash

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Recover ends a panic in the calling goroutine; it must be deferred directly
// (defer crash.Recover(…)), as recover only works there. service is the metrics label
// ("http", "tftp", "sip", "ldap", "mail", "store", …), where names the boundary.
func Recover(log *slog.Logger, service, where string) {
	if v := recover(); v != nil {
		report(log, service, where, v)
	}
}

// RecoverWith is Recover that, after a panic was recovered and reported, calls after:
// to answer 500, or to reset state the interrupted work left half-set.
func RecoverWith(log *slog.Logger, service, where string, after func()) {
	if v := recover(); v != nil {
		report(log, service, where, v)
		after()
	}
}

// RestartPause is how long Restart waits before running a loop that panicked again.
const RestartPause = time.Second

// Restart runs loop until it returns; a panic is reported and loop runs again after
// RestartPause. For background loops that should outlive one bad round.
func Restart(log *slog.Logger, service, where string, loop func()) {
	for !runOnce(log, service, where, loop) {
		time.Sleep(RestartPause)
	}
}

// runOnce runs loop and reports whether it returned (false: it panicked).
func runOnce(log *slog.Logger, service, where string, loop func()) (returned bool) {
	defer Recover(log, service, where)
	loop()
	return true
}

func report(log *slog.Logger, service, where string, v any) {
	count(service)
	if log == nil {
		log = slog.Default()
	}
	// %v of the panic value: a runtime error or the panicking code's own message, not
	// the input being handled.
	log.Error("panic recovered", "svc", service, "where", where,
		"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

var (
	mu     sync.Mutex
	counts = map[string]*atomic.Uint64{}
)

func count(service string) {
	mu.Lock()
	c := counts[service]
	if c == nil {
		c = new(atomic.Uint64)
		counts[service] = c
	}
	mu.Unlock()
	c.Add(1)
}

// Counts gives the panics recovered so far in this process, by service (the
// dialtone_panics_total counter).
func Counts() map[string]float64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]float64, len(counts))
	for s, c := range counts {
		out[s] = float64(c.Load())
	}
	return out
}

// Count is the number of panics recovered so far for one service.
func Count(service string) uint64 {
	mu.Lock()
	defer mu.Unlock()
	if c := counts[service]; c != nil {
		return c.Load()
	}
	return 0
}
