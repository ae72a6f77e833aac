package admin

import (
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// loginThrottle counts failed logins per source address (an IPv6 source by its /64, as
// ratelimit.Source keys it). limit failures within a window lock the source out of login
// for lockout; the lock is logged once, by the caller. Wrong links to set-password and
// wrong old passwords on PATCH /me count here too, so each is guessed no faster than a
// login.
type loginThrottle struct {
	s *ratelimit.Strikes[string]
}

// maxTracked bounds the memory a flood of distinct sources can take.
const maxTracked = 100_000

func newLoginThrottle(limit int, window, lockout time.Duration, now func() time.Time) *loginThrottle {
	return &loginThrottle{s: ratelimit.NewStrikes[string](ratelimit.Policy{
		Limit: limit, Window: window, Block: lockout, MaxKeys: maxTracked}, now)}
}

// throttleKey is the key a source address is counted under.
func throttleKey(src string) string {
	if addr, err := netip.ParseAddr(src); err == nil {
		return ratelimit.Source(addr).String()
	}
	return src
}

// locked says whether src may not try now, and until when.
func (t *loginThrottle) locked(src string) (bool, time.Time) {
	return t.s.Blocked(throttleKey(src))
}

// fail records a failure; it answers true when this failure started a lockout.
func (t *loginThrottle) fail(src string) bool {
	return t.s.Strike(throttleKey(src))
}
