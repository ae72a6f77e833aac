package admin

import (
	"sync"
	"time"
)

// loginThrottle counts failed logins per source address. More than limit failures in a
// window lock the source out of login for lockout; the lock is logged once, by the caller.
type loginThrottle struct {
	mu      sync.Mutex
	limit   int
	window  time.Duration
	lockout time.Duration
	now     func() time.Time
	m       map[string]*loginAttempts
}

type loginAttempts struct {
	start  time.Time // of the current window
	n      int
	locked time.Time // locked until
}

// maxTracked bounds the memory a flood of distinct sources can take.
const maxTracked = 100_000

func newLoginThrottle(limit int, window, lockout time.Duration, now func() time.Time) *loginThrottle {
	return &loginThrottle{limit: limit, window: window, lockout: lockout, now: now, m: map[string]*loginAttempts{}}
}

// locked says whether src may not try now, and until when.
func (t *loginThrottle) locked(src string) (bool, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.m[src]
	if a == nil {
		return false, time.Time{}
	}
	return t.now().Before(a.locked), a.locked
}

// fail records a failure; it answers true when this failure started a lockout.
func (t *loginThrottle) fail(src string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a := t.m[src]
	if a == nil {
		if len(t.m) >= maxTracked {
			t.prune(now)
		}
		a = &loginAttempts{start: now}
		t.m[src] = a
	}
	if now.Sub(a.start) > t.window {
		a.start, a.n = now, 0
	}
	a.n++
	if a.n >= t.limit && !now.Before(a.locked) {
		a.locked = now.Add(t.lockout)
		a.start, a.n = now, 0
		return true
	}
	return false
}

func (t *loginThrottle) prune(now time.Time) {
	for k, a := range t.m {
		if now.Sub(a.start) > t.window && !now.Before(a.locked) {
			delete(t.m, k)
		}
	}
	if len(t.m) >= maxTracked { // still full of live entries: start afresh
		t.m = map[string]*loginAttempts{}
	}
}
