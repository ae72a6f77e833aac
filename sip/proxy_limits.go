package sip

import (
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// DefaultInvitesPerSource is Config.InvitesPerSource's default: new INVITEs (not
// retransmissions, not in-dialog requests) one source may send within a second. An
// office NAT with a hundred phones places a handful of calls a second; over the limit
// the source is answered 503 for ten seconds (internal/ratelimit.Strikes).
const DefaultInvitesPerSource = 100

// inviteBlock is how long a source over its INVITE rate is refused.
const inviteBlock = 10 * time.Second

func invitePolicy(n int) ratelimit.Policy {
	if n == 0 {
		n = DefaultInvitesPerSource
	}
	if n < 0 {
		n = 1 << 29
	}
	return ratelimit.Policy{Limit: n + 1, Window: time.Second, Block: inviteBlock, MaxKeys: 100_000, Name: "sip-invite"}
}

// inviteFlood counts a new INVITE from src and reports whether src is over its rate.
// The caller does not count an upstream's addresses: its calls are the tenant's,
// bounded by max_calls.
func (s *Server) inviteFlood(src netip.AddrPort) bool {
	if s.cfg.InvitesPerSource < 0 {
		return false
	}
	key := ratelimit.Source(src.Addr())
	if blocked, _ := s.proxy.invites.Blocked(key); blocked {
		return true
	}
	if s.proxy.invites.Strike(key) {
		s.log.Warn("source over its INVITE rate: refused for a while", "source", key.String(),
			"per_second", s.proxy.invites.Policy().Limit, "for", inviteBlock.String())
		return true
	}
	return false
}

func (t *tenantInfo) maxCalls() int        { return t.callsMax }
func (t *tenantInfo) maxCallsPerUser() int { return t.callsUser }
