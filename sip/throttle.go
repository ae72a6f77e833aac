package sip

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Guard counts authentication failures per source address and refuses an address that
// fails too often: failLimit failures within failWindow block it for blockFor. Other
// addresses are untouched. Memory is bounded by maxSources.
type Guard struct {
	mu      sync.Mutex
	sources map[netip.Addr]*failures
	now     func() time.Time
	log     *slog.Logger

	limit      int
	window     time.Duration
	blockFor   time.Duration
	maxSources int
	lastSweep  time.Time
	// anyBlockedUntil is the latest block end (unix ns): the hot path skips the lock
	// when no block can be in force.
	anyBlockedUntil atomic.Int64
}

type failures struct {
	start        time.Time // start of the current counting window
	count        int
	blockedUntil time.Time
}

const (
	defaultFailLimit  = 10
	defaultFailWindow = time.Minute
	defaultBlockFor   = 10 * time.Minute
	guardMaxSources   = 100_000
)

func newGuard(now func() time.Time, log *slog.Logger) *Guard {
	return &Guard{
		sources: make(map[netip.Addr]*failures), now: now, log: log,
		limit: defaultFailLimit, window: defaultFailWindow, blockFor: defaultBlockFor,
		maxSources: guardMaxSources,
	}
}

// Blocked reports whether addr is refused right now.
func (g *Guard) Blocked(addr netip.Addr) bool {
	now := g.now()
	if now.UnixNano() >= g.anyBlockedUntil.Load() {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.sources) == 0 {
		return false
	}
	f := g.sources[addr]
	return f != nil && now.Before(f.blockedUntil)
}

// Fail records one authentication failure from addr; the failure that reaches the limit
// blocks the address and is logged, once.
func (g *Guard) Fail(addr netip.Addr) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.sources[addr]
	if f == nil {
		if len(g.sources) >= g.maxSources {
			g.sweep(now)
			if len(g.sources) >= g.maxSources {
				return // full of live entries: count nothing new rather than grow
			}
		}
		f = &failures{start: now}
		g.sources[addr] = f
	}
	if now.Before(f.blockedUntil) {
		return
	}
	if now.Sub(f.start) > g.window {
		f.start, f.count = now, 0
	}
	f.count++
	if f.count >= g.limit {
		f.blockedUntil = now.Add(g.blockFor)
		f.count = 0
		if u := f.blockedUntil.UnixNano(); u > g.anyBlockedUntil.Load() {
			g.anyBlockedUntil.Store(u)
		}
		g.log.Warn("source blocked after repeated authentication failures",
			"source", addr.String(), "failures", g.limit, "for", g.blockFor.String())
	}
	if now.Sub(g.lastSweep) > g.window {
		g.sweep(now)
	}
}

// sweep forgets addresses that are neither blocked nor inside a counting window.
func (g *Guard) sweep(now time.Time) {
	g.lastSweep = now
	for a, f := range g.sources {
		if now.After(f.blockedUntil) && now.Sub(f.start) > g.window {
			delete(g.sources, a)
		}
	}
}
