package main

import (
	"github.com/dialtone/dialtone/flex"
)

// wire builds every service over the bound listeners and connects the packages through
// the interfaces they declare.
func (m *Main) wire() error {
	m.registerStoreMetrics()
	desk := flex.New(m.store, m.log, nil)
	m.services = append(m.services, service{name: "flex", serve: desk.Run})
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
	sec := m.store.Secrets()
	m.metrics.Gauge("dialtone_password_hashes", "argon2id password hashes: computed (a counter), refused as busy (a counter, this gate), running now.", func() map[string]float64 {
		g := sec.PasswordGate()
		return map[string]float64{"computed": float64(sec.PasswordHashes()), "busy": float64(g.Busy()), "running": float64(g.InUse())}
	}, "what")
	m.metrics.Gauge("dialtone_store_bytes", "On-disk size of the store by part.", func() map[string]float64 {
		lsm, vlog := m.store.Size()
		return map[string]float64{"lsm": float64(lsm), "vlog": float64(vlog)}
	}, "part")
}
