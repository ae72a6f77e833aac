package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/ipv4"
)

// joinGroup joins an IPv4 multicast group on pc on the named interfaces, or on every
// interface that is up, multicast-capable and not loopback.
func joinGroup(pc net.PacketConn, group netip.Addr, names []string) ([]string, error) {
	var ifs []net.Interface
	if len(names) == 0 {
		all, err := net.Interfaces()
		if err != nil {
			return nil, err
		}
		for _, ifi := range all {
			if ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0 && ifi.Flags&net.FlagLoopback == 0 {
				ifs = append(ifs, ifi)
			}
		}
		if len(ifs) == 0 {
			return nil, errors.New("no interface is up, multicast-capable and not loopback")
		}
	} else {
		for _, n := range names {
			ifi, err := net.InterfaceByName(strings.TrimSpace(n))
			if err != nil {
				return nil, fmt.Errorf("interface %q: %w", n, err)
			}
			ifs = append(ifs, *ifi)
		}
	}
	p := ipv4.NewPacketConn(pc)
	gaddr := &net.UDPAddr{IP: group.AsSlice()}
	var joined []string
	var errs []error
	for _, ifi := range ifs {
		if err := p.JoinGroup(&ifi, gaddr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ifi.Name, err))
			continue
		}
		joined = append(joined, ifi.Name)
	}
	if len(joined) == 0 {
		return nil, errors.Join(errs...)
	}
	return joined, nil
}
