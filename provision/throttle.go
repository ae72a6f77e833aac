package provision

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Unknown-MAC scan throttle: an address that asks for more than scanLimit
// different unknown MACs within scanWindow is refused everything (HTTP 429,
// TFTP error) for scanBlock, logged once when the block starts. The MAC that
// crosses the limit and every one after it are not recorded as discovered, so a
// scan never grows the discovered list past the limit.
const (
	scanLimit  = 20
	scanWindow = time.Minute
	scanBlock  = 10 * time.Minute
	scanMaxIPs = 65536
)

type scanState struct {
	windowStart  time.Time
	macs         map[string]struct{}
	blockedUntil time.Time
}

type scanThrottle struct {
	mu    sync.RWMutex
	now   func() time.Time
	log   *slog.Logger
	addrs map[netip.Addr]*scanState
}

func newScanThrottle(now func() time.Time, log *slog.Logger) *scanThrottle {
	return &scanThrottle{now: now, log: log, addrs: map[netip.Addr]*scanState{}}
}

// blocked reports whether addr is serving a block.
func (s *scanThrottle) blocked(addr netip.Addr) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.addrs[addr]
	return st != nil && s.now().Before(st.blockedUntil)
}

// unknown notes a fetch for an unknown MAC from addr; false means refuse it
// (and do not record it).
func (s *scanThrottle) unknown(addr netip.Addr, mac string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	st := s.addrs[addr]
	if st == nil {
		if len(s.addrs) >= scanMaxIPs {
			s.sweep(now)
		}
		st = &scanState{windowStart: now, macs: map[string]struct{}{}}
		s.addrs[addr] = st
	}
	if now.Before(st.blockedUntil) {
		return false
	}
	if now.Sub(st.windowStart) >= scanWindow {
		st.windowStart, st.macs = now, map[string]struct{}{}
	}
	if _, seen := st.macs[mac]; seen {
		return true
	}
	if len(st.macs) >= scanLimit {
		st.blockedUntil = now.Add(scanBlock)
		st.macs = map[string]struct{}{}
		s.log.Warn("unknown-MAC scan: address refused", "addr", addr.String(),
			"limit_per_minute", scanLimit, "for", scanBlock.String())
		return false
	}
	st.macs[mac] = struct{}{}
	return true
}

// sweep forgets addresses with no block and an old window.
func (s *scanThrottle) sweep(now time.Time) {
	for a, st := range s.addrs {
		if !now.Before(st.blockedUntil) && now.Sub(st.windowStart) >= scanWindow {
			delete(s.addrs, a)
		}
	}
	if len(s.addrs) >= scanMaxIPs { // all blocked or busy: start over rather than grow
		s.addrs = map[netip.Addr]*scanState{}
	}
}
