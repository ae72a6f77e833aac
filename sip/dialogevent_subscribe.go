package sip

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// maxDialogHeader bounds the From, To, Contact and Event values a subscription keeps.
const maxDialogHeader = 512

// onDialogSubscribe answers a SUBSCRIBE with Event: dialog (RFC 6665 §4.2.1, RFC 4235
// §3): from a line authenticated by digest in its tenant (401, as the notifier is the
// user agent server), for an extension of that tenant. A new or
// refreshing SUBSCRIBE is answered 200 with the Expires granted and followed at once
// by a NOTIFY with the full state (RFC 6665 §4.2.1.1, §4.2.1.2); Expires: 0 ends the
// subscription with a last NOTIFY, Subscription-State terminated (§4.2.1.4).
func (s *Server) onDialogSubscribe(req *sip.Request, in *inbound, w *replyWriter, event string) {
	d := s.blf
	from, to := req.From(), req.To()
	fromTag, _ := from.Params.Get("tag")
	toTag, inDialog := to.Params.Get("tag")
	contact := req.Contact()
	if fromTag == "" || contact == nil || len(event) > maxDialogHeader ||
		len(from.Value()) > maxDialogHeader || len(to.Value()) > maxDialogHeader {
		in.send(w.simple(400, "Bad Request"))
		return
	}
	target := contact.Address.String()
	if len(target) > maxDialogHeader || contact.Address.Host == "" {
		in.send(w.simple(400, "Bad Request"))
		return
	}
	if !acceptsDialogInfo(req) {
		w.status(406, "Not Acceptable")
		w.header("Accept", dialogInfoType)
		in.send(w.finish())
		return
	}
	expires, ok := subscribeExpires(req)
	if !ok {
		in.send(w.simple(400, "Bad Request (Expires)"))
		return
	}
	if expires > 0 && expires < DialogMinExpires {
		w.status(423, "Interval Too Brief")
		w.header("Min-Expires", strconv.Itoa(DialogMinExpires))
		in.send(w.finish())
		return
	}
	expires = min(expires, DialogMaxExpires)
	key := req.CallID().Value() + "\x00" + fromTag + "\x00" + eventID(event)

	// The resource: an in-dialog SUBSCRIBE names our Contact, so its subscription says
	// what it watches; a new one names the extension in its Request-URI.
	d.mu.Lock()
	sub := d.subs[key]
	var tenant, ext string
	if sub != nil {
		tenant, ext = sub.tenant, sub.ext
	}
	d.mu.Unlock()
	if inDialog && (sub == nil || toTag != s.tag) {
		in.send(w.simple(481, "Subscription Does Not Exist"))
		return
	}
	// The line authenticates in its own tenant (its From domain, as a REGISTER in its To
	// domain), the watched extension's tenant is the Request-URI's: a BLF key pointing
	// at another tenant is refused after authentication, and counts as no wrong password.
	var t, watched *tenantInfo
	var err error
	if sub != nil {
		t, err = s.accounts.tenant(tenant)
		watched = t
	} else {
		ext = req.Recipient.User
		if ext == "" {
			ext = to.Address.User
		}
		if watched, err = s.accounts.tenantFor(req.Recipient.Host); err == nil {
			t, err = s.accounts.tenantFor(from.Address.Host)
		}
	}
	if err != nil {
		if errors.Is(err, errNoTenant) {
			in.send(w.simple(404, "Not Found"))
			return
		}
		s.log.Error("tenant lookup", "err", err)
		in.send(w.simple(500, "Server Internal Error"))
		return
	}
	cred, ok := s.authorize(req, in, w, false, t)
	if !ok {
		return
	}
	if sub != nil && cred.Username != sub.username {
		in.send(w.simple(403, "Forbidden (not your subscription)"))
		return
	}
	if watched.slug != t.slug {
		in.send(w.simple(403, "Forbidden (another tenant's extension)"))
		return
	}
	if sub == nil && !s.extensionOf(t.slug, ext) {
		in.send(w.simple(404, "Not Found (no such extension)"))
		return
	}
	now := s.now()
	nw := &subscription{
		key: key, tenant: t.slug, ext: ext, domain: t.realm, entity: "sip:" + ext + "@" + t.realm,
		username: cred.Username, source: ratelimit.Source(in.src.Addr()),
		callID: req.CallID().Value(), from: from.Value(), to: to.Value(), target: target, event: dialogEvent(event),
		transport: in.transport, src: in.src, local: in.local, write: in.write,
		expires: now.Add(time.Duration(expires) * time.Second),
	}
	if !inDialog {
		nw.to += ";tag=" + s.tag
	}
	d.mu.Lock()
	if cur := d.subs[key]; cur != nil {
		sub = cur // a refresh (or a new SUBSCRIBE sent again)
		sub.target, sub.transport, sub.src, sub.local, sub.write = nw.target, nw.transport, nw.src, nw.local, nw.write
		sub.expires = nw.expires
	} else if expires > 0 {
		if d.perTenant[nw.tenant] >= d.maxPerTenant || d.perSource[nw.source] >= d.maxPerSource || len(d.subs) >= MaxDialogSubs {
			d.mu.Unlock()
			s.log.Warn("BLF: subscription refused, too many", "tenant", nw.tenant, "source", nw.source.String(),
				"per_tenant", d.maxPerTenant, "per_source", d.maxPerSource)
			w.status(503, "Service Unavailable (too many subscriptions)")
			w.header("Retry-After", "300")
			in.send(w.finish())
			return
		}
		sub = nw
		d.hold(sub)
	} else {
		sub = nw // a fetch (RFC 6665 §4.4.3): one NOTIFY, no subscription kept
	}
	sub.pending = d.snapshot(extKey{sub.tenant, sub.ext})
	if expires == 0 {
		d.release(sub, "timeout")
	}
	d.mu.Unlock()
	w.status(200, "OK")
	w.header("Expires", strconv.Itoa(expires))
	w.header("Contact", s.dialogContact(sub, in))
	in.send(w.finish())
	// The NOTIFY follows the 200 (a call's change in between may send one first, which
	// a subscriber takes: RFC 6665 §4.1.2.4).
	d.mu.Lock()
	d.kick(sub)
	d.mu.Unlock()
	d.startSweep()
}

// dialogContact is our Contact in a subscription dialog (the NOTIFYs' too): the
// watched extension at the address the SUBSCRIBE reached.
func (s *Server) dialogContact(sub *subscription, in *inbound) string {
	c := "<sip:" + sub.ext + "@" + hostPort(in.local, s.cfg.PublicHost)
	switch in.transport {
	case "TCP":
		c += ";transport=tcp"
	case "TLS":
		c += ";transport=tls"
	}
	return c + ">"
}

// hold enters a new subscription in the tables (d.mu held).
func (d *dialogEvents) hold(sub *subscription) {
	d.subs[sub.key] = sub
	k := extKey{sub.tenant, sub.ext}
	if d.watchers[k] == nil {
		d.watchers[k] = make(map[*subscription]struct{})
	}
	d.watchers[k][sub] = struct{}{}
	d.perTenant[sub.tenant]++
	d.perSource[sub.source]++
	sub.held = true
}

// release takes a subscription out of the tables; with a reason, a last NOTIFY
// (Subscription-State: terminated) is due (d.mu held).
func (d *dialogEvents) release(sub *subscription, reason string) {
	sub.final = reason
	if !sub.held {
		return
	}
	sub.held = false
	delete(d.subs, sub.key)
	k := extKey{sub.tenant, sub.ext}
	delete(d.watchers[k], sub)
	if len(d.watchers[k]) == 0 {
		delete(d.watchers, k)
	}
	if d.perTenant[sub.tenant]--; d.perTenant[sub.tenant] <= 0 {
		delete(d.perTenant, sub.tenant)
	}
	if d.perSource[sub.source]--; d.perSource[sub.source] <= 0 {
		delete(d.perSource, sub.source)
	}
}

// extensionOf says whether ext is an extension of tenant.
func (s *Server) extensionOf(tenant, ext string) bool {
	if ext == "" || len(ext) > 16 || strings.Trim(ext, "0123456789") != "" {
		return false
	}
	_, err := s.cfg.Store.Extension(tenant, ext)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("BLF: extension lookup", "tenant", tenant, "err", err)
	}
	return err == nil
}

const dialogInfoType = "application/dialog-info+xml"

// acceptsDialogInfo: a SUBSCRIBE without Accept takes the package's default type
// (RFC 6665 §4.1.2.1, RFC 4235 §3.3); one with Accept must list it.
func acceptsDialogInfo(req *sip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			v, _, _ = strings.Cut(v, ";")
			if v = strings.ToLower(strings.TrimSpace(v)); v == dialogInfoType || v == "application/*" || v == "*/*" {
				return true
			}
		}
	}
	return false
}

// subscribeExpires reads the Expires header (RFC 6665 §4.1.2.1); none is the default.
func subscribeExpires(req *sip.Request) (int, bool) {
	h := firstHeader(req, "Expires")
	if h == nil {
		return DialogDefaultExpires, true
	}
	v := strings.TrimSpace(h.Value())
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || len(v) > 10 {
		return 0, false
	}
	return n, true
}

// eventID is the id parameter of an Event header (RFC 6665 §8.2.3), "" when none.
func eventID(event string) string {
	_, params, _ := strings.Cut(event, ";")
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "id") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// dialogEvent is the Event header our NOTIFYs carry: the package and the SUBSCRIBE's
// id, when it had one (RFC 6665 §8.2.3: the NOTIFY must match it).
func dialogEvent(event string) string {
	if id := eventID(event); id != "" && strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!%*+`'~") == "" {
		return "dialog;id=" + id
	}
	return "dialog"
}
