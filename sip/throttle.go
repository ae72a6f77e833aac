package sip

import (
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// sourcePolicy: ten failed passwords within a minute from one source (an IPv6 client
// by its /64, ratelimit.Source) block it for ten minutes. Only a digest over a nonce
// this registrar sent to that source counts (auth.go): a datagram with a forged, stale
// or foreign nonce, or without qop, is challenged and counts nothing, so spoofed
// datagrams cannot block an office's NAT address.
var sourcePolicy = ratelimit.Policy{Limit: 10, Window: time.Minute, Block: 10 * time.Minute, MaxKeys: 100_000, Name: "sip-auth"}

func newSourceStrikes(now func() time.Time) *ratelimit.Strikes[netip.Addr] {
	return ratelimit.NewStrikes[netip.Addr](sourcePolicy, now)
}

// sourceBlocked reports whether src is refused now (one atomic load while no source is
// blocked).
func (s *Server) sourceBlocked(src netip.AddrPort) bool {
	blocked, _ := s.guard.Blocked(ratelimit.Source(src.Addr()))
	return blocked
}

// failedPassword counts one wrong password from src; the one that blocks it is logged.
func (s *Server) failedPassword(src netip.AddrPort) {
	key := ratelimit.Source(src.Addr())
	if s.guard.Strike(key) {
		s.log.Warn("source blocked after repeated authentication failures",
			"source", key.String(), "failures", sourcePolicy.Limit, "for", sourcePolicy.Block.String())
	}
}
