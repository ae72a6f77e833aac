package provision

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/dialtone/dialtone/store"
)

// SIP plug-and-play (the registrar answers the SUBSCRIBE, package sip): which tenant
// answers a phone, and with which URL.

// ErrNoPnPTenant: no tenant answers plug-and-play from that address.
var ErrNoPnPTenant = errors.New("no tenant claims plug-and-play for this address")

// PnPOffer is the answer to one plug-and-play SUBSCRIBE.
type PnPOffer struct {
	Tenant string
	MAC    string
	Make   Make // "" when neither the OUI nor the User-Agent tells
	URL    string
	Known  bool // the MAC is one of the tenant's phones
}

// pnpClaims is every tenant's pnp_subnets, read once after each tenant change.
type pnpClaims struct {
	claims         []pnpClaim
	defaultClaims  bool // the default tenant claims subnets of its own
	defaultPresent bool
}

type pnpClaim struct {
	prefix netip.Prefix
	slug   string
}

func (p *Provisioner) pnpTable() (*pnpClaims, error) {
	p.tokMu.RLock()
	t := p.pnp
	p.tokMu.RUnlock()
	if t != nil {
		return t, nil
	}
	ts, err := p.st.Tenants()
	if err != nil {
		return nil, err
	}
	t = &pnpClaims{}
	for _, tn := range ts {
		for _, pf := range tn.PnPPrefixes() {
			t.claims = append(t.claims, pnpClaim{pf, tn.Slug})
		}
		if tn.Slug == store.DefaultTenant {
			t.defaultPresent, t.defaultClaims = true, len(tn.PnPSubnets) > 0
		}
	}
	p.tokMu.Lock()
	if p.pnp == nil {
		p.pnp = t
	}
	p.tokMu.Unlock()
	return t, nil
}

// PnPTenant is the tenant answering plug-and-play from src: the one whose pnp_subnets
// hold it (store refuses overlapping claims, so there is one at most); else, when
// unclaimed is true, the default tenant as long as it claims no subnet itself.
func (p *Provisioner) PnPTenant(src netip.Addr, unclaimed bool) (string, error) {
	t, err := p.pnpTable()
	if err != nil {
		return "", err
	}
	src = src.Unmap()
	for _, c := range t.claims {
		if c.prefix.Contains(src) {
			return c.slug, nil
		}
	}
	if unclaimed && t.defaultPresent && !t.defaultClaims {
		return store.DefaultTenant, nil
	}
	return "", ErrNoPnPTenant
}

// PnP answers a plug-and-play SUBSCRIBE from src by a phone of the given MAC (12
// lower-case hex) and User-Agent. The make comes from the MAC's OUI (the SUBSCRIBE's
// Event parameters are not to be trusted), else from the User-Agent. The URL is the
// tenant's provisioning folder (…/p/{token}/), from which each make asks its own file
// names; for Snom, whose plug-and-play takes the URL as its setting_server and loads
// that one file, the phone's own {MAC}.xml. An unknown MAC is recorded as discovered
// (under the unknown-MAC throttle, throttle.go): the URL carries only the tenant's
// token, what DHCP option 66 hands out anyway, and the phone gets no secret until an
// admin claims it.
func (p *Provisioner) PnP(src netip.Addr, mac, ua string, unclaimed bool) (PnPOffer, error) {
	mac, ok := NormalizeMAC(mac)
	if !ok {
		return PnPOffer{}, fmt.Errorf("mac: %w", store.ErrInvalid)
	}
	slug, err := p.PnPTenant(src, unclaimed)
	if err != nil {
		return PnPOffer{}, err
	}
	t, ok := p.tenantBySlug(slug)
	if !ok {
		return PnPOffer{}, ErrNoPnPTenant
	}
	if len(ua) > 256 {
		ua = ua[:256]
	}
	parsed := ParseUserAgent(ua)
	mk := MakeFromOUI(mac)
	if mk == "" {
		mk = parsed.Make
	}
	o := PnPOffer{Tenant: t.Slug, MAC: mac, Make: mk, URL: p.provisioningURL(*t)}
	if mk == Snom {
		o.URL += MACUpper(mac) + ".xml"
	}
	rec, err := p.phone(mac)
	switch {
	case err == nil && rec.Tenant != t.Slug:
		// Another tenant's phone on this tenant's subnet: pointed here all the same (the
		// address decides), but not recorded here; its files are the other tenant's.
		return o, nil
	case err == nil:
		o.Known = true
	case !errors.Is(err, store.ErrNotFound):
		return PnPOffer{}, err
	}
	now := p.cfg.Now().UTC()
	entry := store.ProvisionLogEntry{Time: now, MAC: mac, File: "SUBSCRIBE ua-profile", Protocol: "sip", Make: string(mk),
		Model: parsed.Model, Firmware: parsed.Firmware, UserAgent: ua, Status: 200}
	ev := fetchEvent{tenant: t.Slug, entry: entry, addr: src, known: o.Known}
	if !o.Known {
		if !p.unknownMAC(src, mac) {
			return o, nil // a scan of MACs: answered, not recorded
		}
		d := &store.Discovered{Tenant: t.Slug, MAC: mac, Make: string(mk), Addr: src.String(), UserAgent: ua,
			FirstSeen: now, LastSeen: now}
		if parsed.Make == mk {
			d.Model, d.Firmware = parsed.Model, parsed.Firmware
		}
		ev.discovered = d
	}
	p.events.add(ev)
	return o, nil
}
