package main

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// defaultHTTPConnsPerSource is --http-conns-per-source's default: the browsers and
// phones of an office behind one NAT address, each with a few kept-alive connections.
const defaultHTTPConnsPerSource = 64

// connCap reads a --*-conns-per-source value: empty is def, 0 is no cap.
func connCap(v string, def int) (int, error) {
	if strings.TrimSpace(v) == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, errors.New("want a whole number of connections, 0 for no cap")
	}
	return n, nil
}

// capOrNone is connCap for a value already checked, in the form the services take
// (negative: no cap).
func capOrNone(v string, def int) int {
	n, _ := connCap(v, def)
	if n == 0 {
		return -1
	}
	return n
}

// refusedCounter counts connections closed at once for holding their source's cap.
func (m *Main) refusedCounter(svc string) func(netip.Addr) {
	c := m.metrics.Counter("dialtone_conns_refused_total",
		"Connections closed at once because their source already held the per-source cap, by service.", "svc").WithLabelValues(svc)
	return func(netip.Addr) { c.Inc() }
}

// trustedProxyTest says whether an address is a --trusted-proxy one (exempt from the
// HTTP cap); the list was checked when the admin API was wired.
func (m *Main) trustedProxyTest() func(netip.Addr) bool {
	ps, _ := m.trustedProxies()
	if len(ps) == 0 {
		return nil
	}
	return func(a netip.Addr) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
}
