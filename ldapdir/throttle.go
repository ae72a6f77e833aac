package ldapdir

import (
	"net"
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// Bind failures are struck per source (ratelimit.Source of the client address): 10
// within a minute block that source from binding for 10 minutes, logged once per block
// (a storm makes one log line). The strike is taken before the password is checked, so
// a burst of binds over many connections cannot pass the limit whole; a successful bind
// clears the source, a bind refused as busy (the password gate was full: nothing was
// checked) refunds its strike.
const (
	bindFailWindow = time.Minute
	bindFailMax    = 10
	bindLockout    = 10 * time.Minute
	bindMaxSources = 100_000
)

func newBindStrikes(now func() time.Time) *ratelimit.Strikes[netip.Addr] {
	return ratelimit.NewStrikes[netip.Addr](ratelimit.Policy{Limit: bindFailMax, Window: bindFailWindow,
		Block: bindLockout, MaxKeys: bindMaxSources, Name: "ldap-bind"}, now)
}

// sourceOf is the key a connection's binds are struck under.
func sourceOf(remote net.Addr) netip.Addr {
	if ta, ok := remote.(*net.TCPAddr); ok {
		return ratelimit.Source(ta.AddrPort().Addr())
	}
	return netip.Addr{}
}
