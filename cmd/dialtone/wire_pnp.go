package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/sip"
)

// pnpDesk answers the registrar's plug-and-play SUBSCRIBEs from the provisioner, which
// is built after the registrar (prov is set before any service runs).
type pnpDesk struct {
	prov      *provision.Provisioner
	unclaimed bool
}

func (d *pnpDesk) Offer(src netip.Addr, mac, ua string) (string, error) {
	if d.prov == nil {
		return "", provision.ErrNoPnPTenant
	}
	o, err := d.prov.PnP(src, mac, ua, d.unclaimed)
	return o.URL, err
}

// pnpConfig reads --pnp and --pnp-unclaimed; nil when plug-and-play is off.
func pnpConfig(c Config) (*pnpDesk, error) {
	on, err := strconv.ParseBool(orDefault(c.PnP, "true"))
	if err != nil {
		return nil, fmt.Errorf("--pnp %q: want true or false", c.PnP)
	}
	unclaimed, err := strconv.ParseBool(orDefault(c.PnPUnclaimed, "true"))
	if err != nil {
		return nil, fmt.Errorf("--pnp-unclaimed %q: want true or false", c.PnPUnclaimed)
	}
	if !on {
		return nil, nil
	}
	return &pnpDesk{unclaimed: unclaimed}, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// joinPnP joins 224.0.1.75 on the SIP UDP socket. It never fails the start: a machine
// with no multicast-capable interface (or a --sip bound to one address, which the
// kernel does not hand multicast datagrams) still answers SUBSCRIBEs sent to the SIP
// port itself, and the log says so.
func (m *Main) joinPnP() {
	ua, ok := m.sipPC.LocalAddr().(*net.UDPAddr)
	if !ok {
		return
	}
	if a := ua.AddrPort().Addr().Unmap(); !a.IsUnspecified() {
		m.log.Warn("PnP multicast could not join: --sip is bound to one address; bind it to all (e.g. :5060) to hear 224.0.1.75. SUBSCRIBEs sent to the SIP port are still answered", "sip", ua.String())
		return
	}
	var names []string
	for _, n := range strings.Split(m.cfg.PnPInterfaces, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	joined, err := sip.JoinPnP(m.sipPC, names)
	if err != nil {
		m.log.Warn("PnP multicast could not join 224.0.1.75; SUBSCRIBEs sent to the SIP port are still answered", "err", err)
		return
	}
	m.log.Info("PnP: joined 224.0.1.75", "port", ua.Port, "interfaces", strings.Join(joined, ","))
}
