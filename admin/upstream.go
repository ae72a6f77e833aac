package admin

import (
	"errors"
	"time"

	"github.com/dialtone/dialtone/store"
)

// UpstreamStates tells how each tenant's registration to its upstream stands (the
// SIP server's trunk registrations); nil for a tenant that is not registering.
type UpstreamStates interface {
	UpstreamState(tenant string) any
}

// upstreamView is a tenant's upstream as the API shows it: never its password.
type upstreamView struct {
	Mode        string    `json:"mode"`
	Host        string    `json:"host"`
	Port        int       `json:"port"`
	Transport   string    `json:"transport"`
	Username    string    `json:"username"`
	PasswordSet bool      `json:"password_set"`
	Domain      string    `json:"domain"`
	Trusted     []string  `json:"trusted"`
	Expiry      int       `json:"expiry"`
	Updated     time.Time `json:"updated"`
	// State is the registration's (register mode), absent in the audit log.
	State any `json:"state,omitempty"`
}

func viewUpstream(u store.Upstream) upstreamView {
	_, port := u.Addr()
	v := upstreamView{Mode: u.Mode, Host: u.Host, Port: port, Transport: u.Transport, Username: u.Username,
		PasswordSet: u.Password != "", Domain: u.SIPDomain(), Trusted: u.Trusted,
		Expiry: int(u.RegisterExpiry() / time.Second), Updated: u.Updated}
	if v.Trusted == nil {
		v.Trusted = []string{}
	}
	return v
}

func (a *API) upstreamState(v *upstreamView, tenant string) {
	if a.cfg.Upstreams != nil && v.Mode == store.UpstreamRegister {
		v.State = a.cfg.Upstreams.UpstreamState(tenant)
	}
}

// upstreamBody is PUT …/upstream: the whole upstream; a password left out keeps the
// stored one.
type upstreamBody struct {
	Mode      string   `json:"mode"`
	Host      string   `json:"host"`
	Port      int      `json:"port"`
	Transport string   `json:"transport"`
	Username  string   `json:"username"`
	Password  *string  `json:"password"`
	Domain    string   `json:"domain"`
	Trusted   []string `json:"trusted"`
	Expiry    int      `json:"expiry"`
}

// getUpstream: GET /api/v1/tenants/{slug}/upstream (tenant.settings).
func (a *API) getUpstream(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	var u store.Upstream
	err = a.view(func(tx *store.Tx) (err error) { u, err = tx.Upstream(sc.tenant); return err })
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("the tenant has no upstream")
	}
	if err != nil {
		return nil, err
	}
	v := viewUpstream(u)
	a.upstreamState(&v, sc.tenant)
	return v, nil
}

// putUpstream: PUT /api/v1/tenants/{slug}/upstream (tenant.settings).
func (a *API) putUpstream(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	var in upstreamBody
	if err := r.decode(&in); err != nil {
		return nil, err
	}
	pw := store.UpstreamSecret{Keep: in.Password == nil}
	if in.Password != nil {
		pw.Set = *in.Password
	}
	var v upstreamView
	err = a.update(func(tx *store.Tx) error {
		prev, err := tx.Upstream(sc.tenant)
		existed := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		u, err := tx.SaveUpstream(sc.tenant, store.Upstream{Mode: in.Mode, Host: in.Host, Port: in.Port,
			Transport: in.Transport, Username: in.Username, Domain: in.Domain, Trusted: in.Trusted, Expiry: in.Expiry}, pw)
		if err != nil {
			return err
		}
		v = viewUpstream(u)
		var before any
		if existed {
			before = viewUpstream(prev)
		}
		return r.audit(tx, sc.tenant, "upstream.update", "upstream/"+sc.tenant, "", before, v)
	})
	if err != nil {
		return nil, err
	}
	a.upstreamState(&v, sc.tenant)
	return v, nil
}

// deleteUpstream: DELETE /api/v1/tenants/{slug}/upstream (tenant.settings): outside
// calls, emergency calls included, have nowhere to go after it.
func (a *API) deleteUpstream(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermTenantSettings)
	if err != nil {
		return nil, err
	}
	err = a.update(func(tx *store.Tx) error {
		u, err := tx.DeleteUpstream(sc.tenant)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("the tenant has no upstream")
		}
		if err != nil {
			return err
		}
		return r.audit(tx, sc.tenant, "upstream.delete", "upstream/"+sc.tenant, "", viewUpstream(u), nil)
	})
	if err != nil {
		return nil, err
	}
	r.status = 204
	return nil, nil
}

// upstreamDoc describes the upstream: as answered, or as PUT (with the write-only
// password, without the state).
func upstreamDoc(put bool) map[string]any {
	s := func(d string) map[string]any { return map[string]any{"type": "string", "description": d} }
	f := map[string]any{
		"mode":      map[string]any{"type": "string", "enum": []string{store.UpstreamRegister, store.UpstreamIP}, "description": "register: Dialtone registers with username and password; ip: calls from the trusted addresses are accepted"},
		"host":      s("name or address of the upstream"),
		"port":      map[string]any{"type": "integer", "minimum": 0, "maximum": 65535, "description": "0: 5060 (5061 over tls)"},
		"transport": map[string]any{"type": "string", "enum": store.UpstreamTransports, "default": "udp"},
		"username":  s("register mode: the account registered and used to answer challenges"),
		"domain":    s("the From/To host the upstream expects (default: host)"),
		"trusted": map[string]any{"type": "array", "maxItems": store.MaxUpstreamTrusted, "items": map[string]any{"type": "string"},
			"description": "ip mode: addresses or CIDR prefixes inbound calls come from (default: the addresses host resolves to)"},
		"expiry": map[string]any{"type": "integer", "minimum": 0, "maximum": store.MaxUpstreamExpiry, "default": store.DefaultUpstreamExpiry,
			"description": "register mode: seconds asked for; refreshed at half the time granted"},
	}
	if put {
		f["password"] = map[string]any{"type": "string", "writeOnly": true, "description": "never answered; left out keeps the stored one, \"\" clears it"}
		return map[string]any{"type": "object", "required": []string{"mode", "host"}, "properties": f}
	}
	f["password_set"] = map[string]any{"type": "boolean"}
	f["updated"] = map[string]any{"type": "string", "format": "date-time"}
	f["state"] = map[string]any{"type": "object", "description": "register mode: the registration",
		"properties": map[string]any{
			"state":        map[string]any{"type": "string", "enum": []string{"registered", "registering", "failed", "stopped"}},
			"reason":       s("why it failed"),
			"registrar":    s("the address registered to (resolved)"),
			"transport":    s("UDP, TCP or TLS"),
			"last_attempt": map[string]any{"type": "string", "format": "date-time"},
			"expires":      map[string]any{"type": "string", "format": "date-time"},
			"next_attempt": map[string]any{"type": "string", "format": "date-time"},
		}}
	return map[string]any{"type": "object", "properties": f}
}
