package ldapdir

import (
	"log/slog"
	"sync"
	"time"
)

// Bind failures are counted per source address: 10 within a minute lock that source out
// of binding for 10 minutes, logged once per lock-out (a storm makes one log line).
const (
	bindFailWindow = time.Minute
	bindFailMax    = 10
	bindLockout    = 10 * time.Minute
)

type throttle struct {
	mu  sync.Mutex
	m   map[string]*strikes
	log *slog.Logger
	now func() time.Time
}

type strikes struct {
	start time.Time // start of the counting window
	n     int
	until time.Time // locked out until
}

func newThrottle(log *slog.Logger, now func() time.Time) *throttle {
	return &throttle{m: map[string]*strikes{}, log: log, now: now}
}

// locked reports whether ip may not bind now.
func (t *throttle) locked(ip string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[ip]
	return s != nil && t.now().Before(s.until)
}

// fail counts one failed bind from ip.
func (t *throttle) fail(ip string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[ip]
	if s == nil {
		if len(t.m) >= 4096 {
			t.sweep(now)
		}
		s = &strikes{start: now}
		t.m[ip] = s
	}
	if now.Sub(s.start) > bindFailWindow {
		s.start, s.n = now, 0
	}
	s.n++
	if s.n >= bindFailMax && !now.Before(s.until) {
		s.until = now.Add(bindLockout)
		s.n = 0
		t.log.Warn("ldap bind failures throttled", "remote", ip, "failures", bindFailMax, "locked_for", bindLockout)
	}
}

func (t *throttle) sweep(now time.Time) {
	for ip, s := range t.m {
		if now.Sub(s.start) > bindFailWindow && !now.Before(s.until) {
			delete(t.m, ip)
		}
	}
}
