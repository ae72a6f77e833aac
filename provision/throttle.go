package provision

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// Unknown-MAC scan throttle: a source (ratelimit.Source: an IPv4 address, an IPv6
// /64) that asks for more than scanLimit different unknown MACs within scanWindow
// is refused everything (HTTP 429, TFTP error) for scanBlock, logged once when the
// block starts. The same unknown MAC asked for again does not count (a phone
// retrying its own file is not a scan). The MAC that crosses the limit and every
// one after it are not recorded as discovered, so a scan never grows the discovered
// list past the limit. At most scanMaxSources sources are tracked; when the table
// is full ratelimit's documented policy applies.
const (
	scanLimit      = 20
	scanWindow     = time.Minute
	scanBlock      = 10 * time.Minute
	scanMaxSources = 65536
)

func newScanThrottle(now func() time.Time) *ratelimit.Strikes[netip.Addr] {
	return ratelimit.NewStrikes[netip.Addr](ratelimit.Policy{Limit: scanLimit + 1, Window: scanWindow,
		Block: scanBlock, MaxKeys: scanMaxSources, Name: "provision-scan"}, now)
}

// scanBlocked reports whether addr's source is serving a scan block.
func (p *Provisioner) scanBlocked(addr netip.Addr) bool {
	blocked, _ := p.scans.Blocked(ratelimit.Source(addr))
	return blocked
}

// unknownMAC notes a fetch for an unknown MAC from addr; false means refuse it
// (and do not record it).
func (p *Provisioner) unknownMAC(addr netip.Addr, mac string) bool {
	tag, err := strconv.ParseUint(mac, 16, 64) // 12 hex digits: the MAC itself is the tag
	if err != nil {
		return false
	}
	blocked, started := p.scans.StrikeDistinct(ratelimit.Source(addr), tag)
	if started {
		p.log.Warn("unknown-MAC scan: source refused", "source", ratelimit.Source(addr).String(),
			"limit_per_minute", scanLimit, "for", scanBlock.String())
	}
	return !blocked
}
