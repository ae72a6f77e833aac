package ratelimit

import "net/netip"

// Source is the key a client address is counted under: an IPv4 address (also one
// written IPv4-mapped) as it is, an IPv6 address as its /64 network.
func Source(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if addr.Is6() {
		p, err := addr.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return addr.WithZone("")
}
