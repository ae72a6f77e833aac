package main

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dialtone/dialtone/calllog"
	"github.com/dialtone/dialtone/flex"
	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/mail"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/sip"
)

// The series of each service, registered where the service is wired. Counts kept by a
// package are read at scrape time (CounterFunc, Gauge); state (registrations, queue
// depth, store size) is read, never counted, so it cannot drift.

// registerStoreMetrics: the store's size, password hashing, panics, throttle blocks and
// the age of the newest backup.
func (m *Main) registerStoreMetrics() {
	sec := m.store.Secrets()
	m.metrics.Gauge("dialtone_password_hashes", "argon2id password hashes: computed (a counter), refused as busy (a counter, this gate), running now.", func() map[string]float64 {
		g := sec.PasswordGate()
		return map[string]float64{"computed": float64(sec.PasswordHashes()), "busy": float64(g.Busy()), "running": float64(g.InUse())}
	}, "what")
	m.metrics.Gauge("dialtone_store_bytes", "On-disk size of the store (BadgerDB) by part: lsm tree and value log.", func() map[string]float64 {
		lsm, vlog := m.store.Size()
		return map[string]float64{"lsm": float64(lsm), "vlog": float64(vlog)}
	}, "part")
	m.metrics.Gauge("dialtone_backup_age_seconds", "Seconds since the newest backup (scheduled, or online through the control socket) was taken; absent while none is known.", func() map[string]float64 {
		at := m.lastBackup.Load()
		if at == 0 {
			return nil
		}
		return map[string]float64{"": time.Since(time.Unix(0, at)).Seconds()}
	})
}

// registerReadiness: /readyz's checks as a gauge, so an alert sees what a probe sees.
func (m *Main) registerReadiness() {
	m.metrics.Gauge("dialtone_ready", "1 when /readyz's check passes, 0 when it fails, by check: store (takes a write), listeners (every service serving), ldap (directory loaded).", func() map[string]float64 {
		h := m.ready(context.Background())
		out := map[string]float64{"store": 1, "listeners": 1, "ldap": 1}
		for check := range h.Checks {
			out[check] = 0
		}
		return out
	}, "check")
}

// panicServices are the services internal/crash counts panics under.
var panicServices = []string{"audit-retention", "backup", "control", "flex", "http", "ldap", "mail", "provision", "sip", "store", "tftp"}

// registerProcessMetrics: what internal packages count for the whole process.
func (m *Main) registerProcessMetrics() {
	m.registerReadiness()
	m.metrics.CounterFunc("dialtone_panics_total", "Panics recovered (each ended one request, datagram, connection or round), by service.",
		func() map[string]float64 {
			out := crash.Counts()
			for _, svc := range panicServices {
				if _, ok := out[svc]; !ok {
					out[svc] = 0 // the series exists before the first panic, for rate() and alerts
				}
			}
			return out
		}, "service")
	m.metrics.CounterFunc("dialtone_auth_blocks_total", "Blocks started by a throttle (too many failed passwords, PIN-less scans…), by throttle: sip-auth, sip-pnp, ldap-bind, admin-login, provision-scan, provision-auth.",
		ratelimit.BlocksStarted, "throttle")
}

// backupCounts is dialtone_backups_total{kind,result}.
func (m *Main) backupCounts() *prometheus.CounterVec {
	return m.metrics.Counter("dialtone_backups_total", "Backups by kind (scheduled, online) and result (ok, failed).", "kind", "result")
}

// backupTaken notes a backup taken at t, if it is the newest known.
func (m *Main) backupTaken(t time.Time) {
	ns := t.UnixNano()
	for {
		old := m.lastBackup.Load()
		if old >= ns || m.lastBackup.CompareAndSwap(old, ns) {
			return
		}
	}
}

// registerObserver counts and times REGISTERs by the status code answered.
func (m *Main) registerObserver() func(code int, d time.Duration) {
	q := m.metrics.Requests("dialtone_sip", "SIP requests", "method", "code")
	return func(code int, d time.Duration) {
		result := "none"
		if code != 0 {
			result = statusText(code)
		}
		q.Observe("REGISTER", result, d)
	}
}

// registerSIPMetrics: live registrations per tenant, read from the registrar's table.
func (m *Main) registerSIPMetrics(srv *sip.Server) {
	m.metrics.CounterFunc("dialtone_sip_flow_lost_total", "Requests to phones (check-sync NOTIFY) not sent because the TCP or TLS connection they registered over was gone.",
		func() map[string]float64 { return map[string]float64{"": float64(srv.FlowsLost())} })
	counts := func(pick func(sip.Count) int) func() map[string]float64 {
		return func() map[string]float64 {
			out := map[string]float64{}
			for tenant, c := range srv.RegistrationCounts() {
				out[tenant] = float64(pick(c))
			}
			return out
		}
	}
	m.metrics.Gauge("dialtone_sip_registrations", "Addresses of record with at least one live binding, by tenant.",
		counts(func(c sip.Count) int { return c.AORs }), "tenant")
	m.metrics.Gauge("dialtone_sip_bindings", "Live bindings (contacts), by tenant.",
		counts(func(c sip.Count) int { return c.Bindings }), "tenant")
	m.metrics.Gauge("dialtone_sip_upstream_registered", "1 while the tenant's registration to its upstream stands, 0 while it does not (register mode only).",
		func() map[string]float64 {
			out := map[string]float64{}
			for tenant, st := range srv.UpstreamStates() {
				out[tenant] = 0
				if st.State == sip.TrunkRegistered {
					out[tenant] = 1
				}
			}
			return out
		}, "tenant")
}

// ldapResults names the result codes (RFC 4511 §4.1.9) a bind or search answers most.
var ldapResults = map[int]string{-1: "none", 0: "success", 2: "protocol_error", 3: "time_limit_exceeded",
	4: "size_limit_exceeded", 10: "referral", 12: "unavailable_critical_extension", 32: "no_such_object",
	34: "invalid_dn_syntax", 48: "inappropriate_authentication", 49: "invalid_credentials",
	50: "insufficient_access_rights", 51: "busy", 53: "unwilling_to_perform", 80: "other"}

// ldapObserver counts and times binds and searches by result.
func (m *Main) ldapObserver() func(op string, code int, d time.Duration) {
	q := m.metrics.Requests("dialtone_ldap", "LDAP operations", "op", "result")
	return func(op string, code int, d time.Duration) {
		r, ok := ldapResults[code]
		if !ok {
			r = "code_" + strconv.Itoa(code)
		}
		q.Observe(op, r, d)
	}
}

// registerProvisionMetrics: TFTP transfers and the render cache.
func (m *Main) registerProvisionMetrics(p *provision.Provisioner) {
	m.metrics.CounterFunc("dialtone_tftp_transfers_total", "TFTP read requests by result: ok, not_found, refused, timeout, failed.", func() map[string]float64 {
		out := map[string]float64{}
		for r, n := range p.Stats().TFTP {
			out[r] = float64(n)
		}
		return out
	}, "result")
	m.metrics.CounterFunc("dialtone_render_cache_lookups_total", "Render cache lookups by result: hit (served without rendering) or miss.", func() map[string]float64 {
		s := p.Stats()
		return map[string]float64{"hit": float64(s.CacheHits), "miss": float64(s.CacheMisses)}
	}, "result")
	m.metrics.Gauge("dialtone_render_cache_bytes", "Bytes the render cache holds (bodies and their overhead, as its cap counts them).", func() map[string]float64 {
		return map[string]float64{"": float64(p.Stats().CacheBytes)}
	})
	m.metrics.Gauge("dialtone_render_cache_entries", "Files the render cache holds.", func() map[string]float64 {
		return map[string]float64{"": float64(p.Stats().CacheEntries)}
	})
}

// registerMailMetrics: the outbox and delivery attempts.
func (m *Main) registerMailMetrics(mailer *mail.Mailer) {
	queue := func() (int, time.Time) {
		n, oldest, err := mailer.Queue()
		if err != nil {
			m.log.Warn("mail metrics", "err", err)
		}
		return n, oldest
	}
	m.metrics.CounterFunc("dialtone_mail_deliveries_total", "Mail delivery attempts by result: sent (the server took it) or failed (kept, retried later).", func() map[string]float64 {
		s := mailer.Stats()
		return map[string]float64{"sent": float64(s.Sent), "failed": float64(s.Failures)}
	}, "result")
	m.metrics.Gauge("dialtone_mail_queue", "Mails waiting in every tenant's outbox.", func() map[string]float64 {
		n, _ := queue()
		return map[string]float64{"": float64(n)}
	})
	m.metrics.Gauge("dialtone_mail_queue_oldest_due_seconds", "Seconds since the earliest queued mail fell due (0 when the outbox is empty or nothing is due yet): growing means the queue is stuck.", func() map[string]float64 {
		n, oldest := queue()
		if n == 0 {
			return map[string]float64{"": 0}
		}
		return map[string]float64{"": max(time.Since(oldest).Seconds(), 0)}
	})
}

// registerFlexMetrics: flex logins by outcome and the locks wrong PINs start.
func (m *Main) registerFlexMetrics(desk *flex.Desk) {
	m.metrics.CounterFunc("dialtone_flex_logins_total", "Flex logins (dialled code or API) by result: ok, wrong_pin, locked (refused while locked).", func() map[string]float64 {
		out := map[string]float64{}
		for r, n := range desk.Stats().Logins {
			out[r] = float64(n)
		}
		return out
	}, "result")
	m.metrics.CounterFunc("dialtone_flex_locks_total", "Flex login locks started by wrong PINs (of a source or an extension).", func() map[string]float64 {
		return map[string]float64{"": float64(desk.Stats().LocksStarted)}
	})
}

// registerCallLogMetrics: the call history's writer.
func (m *Main) registerCallLogMetrics(l *calllog.Log) {
	m.metrics.Gauge("dialtone_calls_in_flight", "Calls the call history follows now.", func() map[string]float64 {
		return map[string]float64{"": float64(l.Stats().InFlight)}
	})
	m.metrics.CounterFunc("dialtone_call_records_total", "Call records by outcome: written, dropped (the write queue was full), failed (the store refused them), untracked (recorded from their end only: too many calls in flight).", func() map[string]float64 {
		st := l.Stats()
		return map[string]float64{"written": float64(st.Written), "dropped": float64(st.Dropped), "failed": float64(st.Failed), "untracked": float64(st.Untracked)}
	}, "outcome")
}

// registerBLFMetrics: the registrar's BLF subscriptions.
func (m *Main) registerBLFMetrics(srv *sip.Server) {
	m.metrics.Gauge("dialtone_sip_dialog_subscriptions", "BLF subscriptions (Event: dialog) held now.", func() map[string]float64 {
		return map[string]float64{"": float64(srv.DialogSubscriptions())}
	})
}
