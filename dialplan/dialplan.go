package dialplan

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/dialtone/dialtone/sip"
	"github.com/dialtone/dialtone/store"
)

// Plan routes calls over the store; it implements sip.Dialplan.
type Plan struct {
	st    *store.Store
	calls *dailyCount
	cache *cache
}

var _ sip.Dialplan = (*Plan)(nil)

// New gives the routing plan over st.
func New(st *store.Store) *Plan {
	return &Plan{st: st, calls: newDailyCount(), cache: newCache(st)}
}

// Refusals the phone shows (reason phrases, RFC 3261 §21).
var (
	refuseGuest       = refuse(403, "guest line: emergency calls only")
	refuseNotAllowed  = refuse(403, "destination not allowed")
	refusePremium     = refuse(403, "destination not allowed: premium rate")
	refuseCap         = refuse(403, "daily outside call limit reached")
	refuseFree        = refuse(404, "number not in use")
	refuseNoSuch      = refuse(404, "no such number")
	refuseUnreachable = refuse(480, "nobody at this number")
)

func refuse(code int, reason string) sip.Route {
	return sip.Route{Kind: sip.RouteRefuse, Code: code, Reason: reason}
}

// caller is what routing needs to know of the calling line, read in one transaction.
type caller struct {
	t    store.Tenant
	user store.User // zero for a guest line or an extension without user
	dept store.Department
	ph   store.Phone
}

// Outbound routes an INVITE from one of the tenant's registered lines (sip.Dialplan).
func (p *Plan) Outbound(ctx context.Context, c sip.Caller, dialled string) (sip.Route, error) {
	if !dialString(dialled) {
		return refuseNoSuch, nil
	}
	who, gen, err := p.caller(c)
	if err != nil {
		return sip.Route{}, err
	}
	// 1. Emergency numbers, from any line.
	if slices.Contains(who.t.EmergencyNumbers, dialled) {
		return sip.Route{Kind: sip.RouteEmergency, Number: dialled,
			CallerID: emergencyCallerID(who), CallerName: who.user.DisplayName()}, nil
	}
	// 2. Feature codes were answered by the registrar; a guest line has nothing more.
	if c.GuestMAC != "" || c.Extension == "" {
		return refuseGuest, nil
	}
	// 3. and 4. The tenant's internal numbers and its own external numbers.
	if r, ok, err := p.destination(who.t, gen, dialled); err != nil || ok {
		return r, err
	}
	// 5. Everything else goes upstream, within the toll-fraud guard.
	route := p.outside(who, dialled)
	if route.Kind == sip.RouteUpstream && !p.calls.take(who.t, c, p.st.Now()) {
		return refuseCap, nil
	}
	return route, nil
}

// caller reads the calling line's records (cached: cache.go), with the cache's
// generation they are of.
func (p *Plan) caller(c sip.Caller) (caller, uint64, error) {
	k := callerKey{tenant: c.Tenant, mac: cmpOr(c.MAC, c.GuestMAC)}
	if c.GuestMAC == "" {
		k.userID = c.UserID
	}
	if who, gen, ok := p.cache.caller(k); ok {
		return who, gen, nil
	}
	gen := p.cache.gen.Load()
	var who caller
	err := p.st.View(func(tx *store.Tx) error {
		var err error
		if who.t, err = tx.Tenant(c.Tenant); err != nil {
			return err
		}
		if k.userID != "" {
			if who.user, err = tx.User(c.Tenant, k.userID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if who.user.DepartmentID != "" {
				who.dept, _ = tx.Department(c.Tenant, who.user.DepartmentID)
			}
		}
		if k.mac != "" {
			if ph, err := tx.Phone(k.mac); err == nil && ph.Tenant == c.Tenant {
				who.ph = ph
			}
		}
		return nil
	})
	if err != nil {
		return caller{}, 0, err
	}
	p.cache.putCaller(k, gen, who)
	return who, gen, nil
}

// destination is steps 3 and 4 for a dialled number (cached: cache.go); ok false when
// the number is neither internal nor the tenant's own. gen is the cache generation t
// is of: what is read with it is stale when t is.
func (p *Plan) destination(t store.Tenant, gen uint64, dialled string) (sip.Route, bool, error) {
	k := destKey{t.Slug, dialled}
	if d, ok := p.cache.dest(k); ok {
		return d.route, d.ok, nil
	}
	var (
		route sip.Route
		ok    bool
	)
	err := p.st.View(func(tx *store.Tx) error {
		var err error
		if route, ok, err = internal(tx, t, dialled); err != nil || ok {
			return err
		}
		route, ok, err = ownNumber(tx, t, Normalize(t.CallRouting, dialled))
		return err
	})
	if err != nil {
		return sip.Route{}, true, err
	}
	p.cache.putDest(k, gen, route, ok)
	return route, ok, nil
}

// internal routes a number of the tenant's own range: the lines of the extension's user,
// 404 for a free number in the range; ok false for a number outside it.
func internal(tx *store.Tx, t store.Tenant, dialled string) (sip.Route, bool, error) {
	if !store.ValidExtension(dialled) {
		return sip.Route{}, false, nil
	}
	e, err := tx.Extension(t.Slug, dialled)
	if errors.Is(err, store.ErrNotFound) {
		if n, _ := strconv.Atoi(dialled); n >= t.ExtMin && n <= t.ExtMax {
			return refuseFree, true, nil
		}
		return sip.Route{}, false, nil
	}
	if err != nil {
		return sip.Route{}, true, err
	}
	r, err := ringUser(tx, t.Slug, e)
	return r, true, err
}

// ownNumber routes a dialled E.164 number that is the tenant's own (a user's DID, or
// the main number with its extension) like the same call from the upstream would be.
func ownNumber(tx *store.Tx, t store.Tenant, number string) (sip.Route, bool, error) {
	if len(number) < 2 || number[0] != '+' {
		return sip.Route{}, false, nil
	}
	switch did, err := tx.ExternalNumber(t.Slug, number); {
	case err == nil:
		u, err := tx.User(t.Slug, did.UserID)
		if err != nil || len(u.Extensions) == 0 {
			return sip.Route{}, false, nil // nobody here to ring: the upstream decides
		}
		e, err := tx.Extension(t.Slug, u.Extensions[0])
		if err != nil {
			return sip.Route{}, false, nil
		}
		r, err := ringUser(tx, t.Slug, e)
		return r, true, err
	case !errors.Is(err, store.ErrNotFound):
		return sip.Route{}, true, err
	}
	if number == t.MainNumber && t.MainNumberExtension != "" {
		if e, err := tx.Extension(t.Slug, t.MainNumberExtension); err == nil {
			r, err := ringUser(tx, t.Slug, e)
			return r, true, err
		}
	}
	return sip.Route{}, false, nil
}

// ringUser routes to every line of the user extension e belongs to: a flex phone the
// user is logged in at registers with those same accounts, so it rings too. A line's
// bindings are kept under the AOR its phones register (the To user, RFC 3261 §10.3):
// the extension number, as provisioned configs give it (user_name), or the SIP
// username; both are listed.
func ringUser(tx *store.Tx, slug string, e store.Extension) (sip.Route, error) {
	r := sip.Route{Kind: sip.RouteInternal, UserID: e.UserID, Extension: e.Number}
	if e.UserID == "" {
		r.AORs = lineAORs(nil, e)
		return r, nil
	}
	u, err := tx.User(slug, e.UserID)
	if errors.Is(err, store.ErrNotFound) {
		r.UserID, r.AORs = "", lineAORs(nil, e)
		return r, nil
	}
	if err != nil {
		return r, err
	}
	for _, n := range u.Extensions {
		if n == e.Number {
			r.AORs = lineAORs(r.AORs, e)
		} else if x, err := tx.Extension(slug, n); err == nil {
			r.AORs = lineAORs(r.AORs, x)
		}
	}
	if !slices.Contains(r.AORs, e.SIPUsername) {
		r.AORs = lineAORs(r.AORs, e)
	}
	return r, nil
}

// lineAORs appends the two names a line's phones may register: its SIP username and
// its extension number.
func lineAORs(aors []string, e store.Extension) []string {
	for _, n := range []string{e.SIPUsername, e.Number} {
		if n != "" && !slices.Contains(aors, n) {
			aors = append(aors, n)
		}
	}
	return aors
}

// outside routes a number to the upstream, or refuses it by the toll-fraud guard.
func (p *Plan) outside(who caller, dialled string) sip.Route {
	cr := who.t.CallRouting
	number := Normalize(cr, dialled)
	if r, refused := guard(cr, number); refused {
		return r
	}
	cid := cmpOr(firstDID(who.user), cr.MainNumber)
	return sip.Route{Kind: sip.RouteUpstream, Number: number, CallerID: cid, CallerName: who.user.DisplayName()}
}

// emergencyCallerID is the caller ID of an emergency call: the phone's, else the
// department's, else the tenant's, else the caller's external number, else the main number.
func emergencyCallerID(who caller) string {
	return cmpOr(who.ph.EmergencyCallerID, who.dept.EmergencyCallerID, who.t.EmergencyCallerID,
		firstDID(who.user), who.t.MainNumber)
}

func firstDID(u store.User) string {
	if len(u.ExternalNumbers) > 0 {
		return u.ExternalNumbers[0]
	}
	return ""
}

func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Inbound routes an INVITE from the tenant's upstream to number (sip.Dialplan): one of
// its DIDs rings the DID's user's lines, the main number its main_number_extension.
func (p *Plan) Inbound(ctx context.Context, tenant, number string) (sip.Route, error) {
	var route sip.Route
	err := p.st.View(func(tx *store.Tx) error {
		t, err := tx.Tenant(tenant)
		if err != nil {
			return err
		}
		e164, ok := inboundE164(t.CallRouting, number)
		if !ok {
			route = refuseNoSuch
			return nil
		}
		var ext store.Extension
		switch did, err := tx.ExternalNumber(tenant, e164); {
		case err == nil:
			u, err := tx.User(tenant, did.UserID)
			if errors.Is(err, store.ErrNotFound) || err == nil && len(u.Extensions) == 0 {
				route = refuseUnreachable
				return nil
			} else if err != nil {
				return err
			}
			if ext, err = tx.Extension(tenant, u.Extensions[0]); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		case e164 == t.MainNumber && t.MainNumberExtension != "":
			if ext, err = tx.Extension(tenant, t.MainNumberExtension); errors.Is(err, store.ErrNotFound) {
				route = refuseUnreachable
				return nil
			} else if err != nil {
				return err
			}
		default:
			route = refuseNoSuch
			return nil
		}
		route, err = ringUser(tx, tenant, ext)
		return err
	})
	return route, err
}
