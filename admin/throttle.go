package admin

import (
	"net/netip"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
)

// Failed logins, bad set-password links and wrong old passwords of PATCH /me are struck
// against the source (ratelimit.Source of the client address) in one ratelimit.Strikes:
// LoginFailures within a minute block the source for LoginLockout, logged once.
//
// The strike is taken before the password hash is spent (attempt), so a burst from one
// source cannot pass the limit whole while its first checks still run; the right
// password clears the source's strikes, and a check the password gate refused as busy
// (nothing was checked) refunds its strike.
func newLoginStrikes(cfg Config) *ratelimit.Strikes[netip.Addr] {
	return ratelimit.NewStrikes[netip.Addr](ratelimit.Policy{Limit: cfg.LoginFailures, Window: time.Minute,
		Block: cfg.LoginLockout, MaxKeys: 100_000, Name: "admin-login"}, cfg.Store.Now)
}

// sourceKey is the key a request's source is struck under.
func sourceKey(src string) netip.Addr {
	a, _ := netip.ParseAddr(src) // an unparsable source (never from a socket) shares the zero key
	return ratelimit.Source(a)
}

// throttled is the 429 for a blocked source, with Retry-After until its block ends.
func (a *API) throttled(r *request, what string) *Problem {
	_, until := a.strikes.Blocked(sourceKey(r.source))
	return &Problem{Status: 429, Code: "throttled", Message: "too many " + what + " from your address; try again later",
		RetryAfter: max(time.Until(until), time.Second)}
}

// attempt takes the tentative strike for a check about to be made: a 429 when the source
// is blocked, else a function the caller calls with the outcome (ok: the right secret;
// err: the check's error, ratelimit.ErrBusy refunding the strike).
func (a *API) attempt(r *request, what string) (done func(ok bool, err error), p *Problem) {
	k := sourceKey(r.source)
	allowed, started := a.strikes.Attempt(k)
	if !allowed {
		return nil, a.throttled(r, what)
	}
	return func(ok bool, err error) {
		switch {
		case ok:
			a.strikes.Clear(k)
		case err != nil && !started:
			a.strikes.Refund(k) // refused as busy: no secret was tried
		case started:
			a.log.Warn("login locked out after repeated failures", "source", r.source,
				"failures", a.cfg.LoginFailures, "lockout", a.cfg.LoginLockout.String())
		}
	}, nil
}
