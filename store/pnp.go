package store

import (
	"net/netip"
	"slices"
	"strings"
)

// MaxPnPSubnets bounds a tenant's pnp_subnets.
const MaxPnPSubnets = 64

// PnPPrefixes parses the tenant's pnp_subnets (stored checked and normalised).
func (t Tenant) PnPPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(t.PnPSubnets))
	for _, s := range t.PnPSubnets {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// checkPnPSubnets normalises the tenant's pnp_subnets (CIDRs, masked, sorted, no
// duplicates) and refuses one that overlaps a subnet another tenant claims: the source
// address of a plug-and-play SUBSCRIBE must name one tenant at most.
func (tx *Tx) checkPnPSubnets(t *Tenant) error {
	if len(t.PnPSubnets) == 0 {
		t.PnPSubnets = nil
		return nil
	}
	if len(t.PnPSubnets) > MaxPnPSubnets {
		return invalid("pnp_subnets", "at most %d subnets", MaxPnPSubnets)
	}
	mine := make([]netip.Prefix, 0, len(t.PnPSubnets))
	for _, s := range t.PnPSubnets {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return invalid("pnp_subnets", "%q: not a subnet in CIDR form, e.g. 192.168.10.0/24", s)
		}
		if p.Addr().Zone() != "" {
			return invalid("pnp_subnets", "%q: a subnet has no zone", s)
		}
		mine = append(mine, p.Masked())
	}
	slices.SortFunc(mine, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	mine = slices.Compact(mine)
	others, err := tx.Tenants("", 0)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.Slug == t.Slug {
			continue
		}
		for _, theirs := range o.PnPPrefixes() {
			for _, p := range mine {
				if p.Overlaps(theirs) {
					return conflict("pnp_subnets", "%s overlaps a subnet another tenant claims", p)
				}
			}
		}
	}
	out := make([]string, 0, len(mine))
	for _, p := range mine {
		out = append(out, p.String())
	}
	t.PnPSubnets = out
	return nil
}
