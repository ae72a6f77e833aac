package admin

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/dialtone/dialtone/store"
)

// secretKeys are the JSON members never written to the audit log (nor anywhere else
// outside the answer that hands a secret out once).
var secretKeys = map[string]bool{
	"pin": true, "pin_hash": true, "password": true, "password_hash": true, "old_password": true,
	"sip_password": true, "guest_password": true, "token": true, "provisioning_token": true,
	"phonebook_password": true, "phone_admin_password": true, "ldap_bind_password": true,
	"provisioning_url": true,
}

const redacted = "[redacted]"

// redact turns v into plain JSON values with every secret member replaced.
func redact(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return redactValue(out)
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if secretKeys[strings.ToLower(k)] {
				if x != nil && x != "" {
					t[k] = redacted
				}
				continue
			}
			t[k] = redactValue(x)
		}
	case []any:
		for i, x := range t {
			t[i] = redactValue(x)
		}
	}
	return v
}

// audit writes one event for a change in the transaction that makes it.
func (r *request) audit(tx *store.Tx, tenant, action, object, subject string, before, after any) error {
	ev := store.AuditEvent{
		Tenant: tenant, Source: r.source, Action: action, Object: object, Subject: subject,
		Before: redact(before), After: redact(after),
	}
	if c := r.caller; c != nil {
		ev.ActorTenant, ev.ActorID, ev.ActorEmail = c.actor.Tenant, c.actor.ID, c.actor.Email
		if c.viewAs {
			ev.ViewAs = c.user.ID
		}
	}
	return tx.Audit(ev)
}

// auditViewAsRequest records every request of a view-as session, whatever its outcome,
// in the target's tenant with both identities (docs/roles.md, "View as").
func (a *API) auditViewAsRequest(r *request) {
	c := r.caller
	err := a.update(func(tx *store.Tx) error {
		return tx.Audit(store.AuditEvent{
			Tenant: c.user.Tenant, Source: r.source, Action: "view_as.request",
			Object:      r.route.method + " " + string(r.ctx.Path()),
			ActorTenant: c.actor.Tenant, ActorID: c.actor.ID, ActorEmail: c.actor.Email,
			ViewAs: c.user.ID, Subject: c.user.ID,
			After: map[string]any{"status": r.ctx.Response.StatusCode()},
		})
	})
	if err != nil {
		a.log.Error("audit of a view-as request failed", "err", err)
	}
}

// auditLog lists a tenant's audit events (reports.read). A department-scoped reader sees
// the events about users of their departments.
func (a *API) auditLog(r *request) (any, error) {
	sc, err := r.tenantNeeding(store.PermReportsRead)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	q, err := auditFilter(r)
	if err != nil {
		return nil, err
	}
	var out []store.AuditEvent
	err = a.view(func(tx *store.Tx) error {
		if sc.wide {
			q.Cursor, q.Limit = cursor, limit+1
			out, err = tx.AuditLog(sc.tenant, q)
			return err
		}
		// Department scope: walk the log in batches, keeping events about users in scope.
		known := map[string]bool{}
		inScope := func(id string) bool {
			if id == "" {
				return false
			}
			v, ok := known[id]
			if !ok {
				u, err := tx.User(sc.tenant, id)
				v = err == nil && sc.inScope(u)
				known[id] = v
			}
			return v
		}
		for len(out) <= limit {
			q.Cursor, q.Limit = cursor, 500
			batch, err := tx.AuditLog(sc.tenant, q)
			if err != nil {
				return err
			}
			for _, ev := range batch {
				if inScope(ev.Subject) {
					out = append(out, ev)
					if len(out) > limit {
						break
					}
				}
			}
			if len(batch) < 500 {
				break
			}
			cursor = batch[len(batch)-1].ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(e store.AuditEvent) string { return e.ID }), nil
}

// auditFilter reads the audit log's filters: subject (a user id: the events about,
// by or as that user), action (a prefix: "user." or "user.update"), since and until
// (RFC 3339 times, inclusive).
func auditFilter(r *request) (store.AuditQuery, error) {
	args := r.ctx.QueryArgs()
	q := store.AuditQuery{Subject: string(args.Peek("subject")), Action: string(args.Peek("action"))}
	if len(q.Action) > 64 || hasControl(q.Action) {
		return q, badRequest("action", "action is at most 64 printable characters")
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := string(args.Peek(f.name))
		if s == "" {
			continue
		}
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, badRequest(f.name, f.name+" is a time like 2026-01-31T00:00:00Z (RFC 3339)")
		}
		*f.to = tm
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, badRequest("until", "until is before since")
	}
	return q, nil
}

// myAudit lists the events about the caller: changes to their account and every request
// someone made as them in a view-as session.
func (a *API) myAudit(r *request) (any, error) {
	sc := r.caller.home()
	if err := sc.need(store.PermSelfManage); err != nil {
		return nil, err
	}
	limit, cursor, err := r.paging()
	if err != nil {
		return nil, err
	}
	var out []store.AuditEvent
	err = a.view(func(tx *store.Tx) error {
		out, err = tx.AuditLog(sc.tenant, store.AuditQuery{Cursor: cursor, Limit: limit + 1, Subject: sc.self.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return paginate(out, limit, func(e store.AuditEvent) string { return e.ID }), nil
}
