package main

import (
	"context"

	"github.com/dialtone/dialtone/flex"
	"github.com/dialtone/dialtone/internal/crash"
)

// wire builds every service over the bound listeners and connects the packages through
// the interfaces they declare.
func (m *Main) wire() error {
	m.registerStoreMetrics()
	m.metrics.CounterFunc("dialtone_panics_total", "Panics recovered (each ended one request, datagram, connection or round), by service.",
		crash.Counts, "service")
	desk := flex.New(m.store, m.log, nil)
	m.services = append(m.services, service{name: "flex", serve: func(ctx context.Context) (err error) {
		crash.Restart(m.log, "flex", "auto-logout", func() { err = desk.Run(ctx) })
		return err
	}})
	reg, err := m.wireSIP(desk)
	if err != nil {
		return err
	}
	dir, err := m.wireLDAP()
	if err != nil {
		return err
	}
	prov, err := m.wireProvision(dir)
	if err != nil {
		return err
	}
	mailer, err := m.wireMail()
	if err != nil {
		return err
	}
	api, err := m.wireAdmin(reg, desk, prov, mailer)
	if err != nil {
		return err
	}
	// Phones' fetches come first: the busiest path, told by its prefix alone.
	mounts := []httpMount{provisionMount(prov), api.Mount, setPasswordMount(api)}
	m.services = append(m.services, m.httpService(mounts), m.controlService())
	return nil
}

func (m *Main) registerStoreMetrics() {
	m.metrics.Gauge("dialtone_store_bytes", "On-disk size of the store by part.", func() map[string]float64 {
		lsm, vlog := m.store.Size()
		return map[string]float64{"lsm": float64(lsm), "vlog": float64(vlog)}
	}, "part")
}
