package sip

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// retransmitWindow: a REGISTER with the Call-ID and CSeq of a binding updated this
// recently is a retransmission and gets the answer again (RFC 3261 §17.2.2 Timer J).
const retransmitWindow = 32 * time.Second

// maxContactsPerRequest bounds the work one REGISTER can ask for.
const maxContactsPerRequest = 10

// onRegister is the registrar (RFC 3261 §10.3).
func (s *Server) onRegister(req *sip.Request, in *inbound, w *replyWriter) {
	// Step 1-2: the Request-URI names the domain; the To header the AOR.
	// Step 2: Require with an extension we do not support -> 420 (RFC 3261 §8.2.2.3).
	if unsupported := requireTokens(req); unsupported != "" {
		w.status(420, "Bad Extension")
		w.header("Unsupported", unsupported)
		in.send(w.finish())
		return
	}
	to := req.To()
	user := to.Address.User
	if user == "" || len(user) > 64 {
		in.send(w.simple(400, "Bad Request"))
		return
	}
	// Step 3-4: tenant from the To domain; a domain we do not serve -> 404.
	t, err := s.accounts.tenantFor(to.Address.Host)
	if err != nil {
		if errors.Is(err, errNoTenant) {
			in.send(w.simple(404, "Not Found"))
			return
		}
		s.log.Error("tenant lookup", "err", err)
		in.send(w.simple(500, "Server Internal Error"))
		return
	}
	// One REGISTER of this AOR at a time, from authentication to answer, so that a
	// retransmission finds what its original did (retransmit.go).
	lock := s.aorLocks.lock(t.slug, user)
	defer lock.Unlock()
	cred, ok := s.authorize(req, in, w, false, t)
	if !ok {
		return
	}
	// Step 6: the authenticated user must own the AOR (RFC 3261 §10.3 step 3).
	if user != cred.Username && user != cred.Extension {
		in.send(w.simple(403, "Forbidden"))
		return
	}
	s.applyRegister(req, in, w, t, cred, user, false)
}

// authorize runs digest authentication and answers the request itself unless it passes.
// A retransmitted REGISTER (nc already used) passes with replay set on the credential.
func (s *Server) authorize(req *sip.Request, in *inbound, w *replyWriter, proxy bool, t *tenantInfo) (*credential, bool) {
	if s.guard.Blocked(in.src.Addr()) {
		in.send(w.simple(403, "Forbidden"))
		return nil, false
	}
	v, cred := s.authenticate(req, proxy, t)
	switch v {
	case authOK:
		return cred, true
	case authReplay:
		if req.Method == sip.REGISTER {
			user := req.To().Address.User
			if user == cred.Username || user == cred.Extension {
				if s.applyRegister(req, in, w, t, cred, user, true) {
					return nil, false
				}
				// Retransmission of a REGISTER accepted before a newer one replaced its
				// binding: the answer again, with the bindings as they are now.
				if s.challenges.accepted(w.transactionKey(s.challenges)) {
					s.answerCurrent(in, w, t.slug, user)
					return nil, false
				}
			}
		}
		s.writeChallenge(w, proxy, t.realm, true)
		in.send(w.finish())
	case authChallenge:
		s.writeChallenge(w, proxy, t.realm, false)
		in.send(w.finish())
	case authStale:
		s.writeChallenge(w, proxy, t.realm, true)
		in.send(w.finish())
	case authFailed:
		s.guard.Fail(in.src.Addr())
		in.send(w.simple(403, "Forbidden"))
	}
	return nil, false
}

// requireTokens lists the Require option tags; we support none for REGISTER.
func requireTokens(req *sip.Request) string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for _, tok := range strings.Split(h.Value(), ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				out = append(out, tok)
			}
		}
	}
	return strings.Join(out, ", ")
}

// contactChange is one Contact of a REGISTER, validated before anything changes.
type contactChange struct {
	key      string // +sip.instance, else the URI
	contact  string // as stored and echoed, without expires
	instance string
	expires  int
}

// applyRegister updates the AOR's bindings all-or-nothing and answers. With onlyRepeat it
// only answers a retransmission (same Call-ID and CSeq) and reports whether it did.
func (s *Server) applyRegister(req *sip.Request, in *inbound, w *replyWriter, t *tenantInfo, cred *credential, user string, onlyRepeat bool) bool {
	now := s.now()
	// Expires header (RFC 3261 §10.2.1.1).
	hdrExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			in.send(w.simple(400, "Bad Request"))
			return true
		}
		hdrExpires = n
	}
	contacts := req.GetHeaders("Contact")
	if len(contacts) > maxContactsPerRequest {
		in.send(w.simple(400, "Bad Request"))
		return true
	}
	wildcard := false
	var changes []contactChange
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			in.send(w.simple(400, "Bad Request"))
			return true
		}
		if c.Address.Wildcard {
			wildcard = true
			continue
		}
		ch, ok := s.contactChange(c, hdrExpires)
		if !ok {
			in.send(w.simple(400, "Bad Request"))
			return true
		}
		changes = append(changes, ch)
	}
	// Step 6: "*" only alone and only with Expires: 0.
	if wildcard && (len(contacts) != 1 || hdrExpires != 0) {
		in.send(w.simple(400, "Bad Request"))
		return true
	}
	// Step 7: 0 < expires < minimum -> 423 with Min-Expires (RFC 3261 §10.3 step 7).
	for _, ch := range changes {
		if ch.expires > 0 && ch.expires < s.cfg.MinExpires {
			w.status(423, "Interval Too Brief")
			w.header("Min-Expires", strconv.Itoa(s.cfg.MinExpires))
			in.send(w.finish())
			return true
		}
	}
	callID := string(*req.CallID())
	cseq := req.CSeq().SeqNo
	limit := s.cfg.MaxContacts
	if cred.GuestMAC != "" {
		limit = 1
	}
	var a *aor
	for {
		a = s.bindings.get(t.slug, user, true)
		a.mu.Lock()
		if !a.dead {
			break
		}
		a.mu.Unlock()
	}
	defer a.mu.Unlock()
	live := a.live(now)
	// Call-ID/CSeq rules (RFC 3261 §10.3 step 7): within one Call-ID a lower CSeq is out
	// of order (400); an equal one recently seen is a retransmission (answer as before).
	for _, b := range live {
		if b.CallID != callID {
			continue
		}
		if cseq == b.CSeq && now.Sub(b.Updated) < retransmitWindow {
			s.answerBindings(in, w, live, now)
			return true
		}
		if cseq < b.CSeq && !onlyRepeat {
			in.send(w.simple(400, "Bad Request"))
			return true
		}
	}
	if onlyRepeat {
		return false
	}
	next := live
	changed := len(next) != len(a.bindings)
	if wildcard {
		next, changed = nil, len(live) > 0
	}
	ua := headerValue(req, "User-Agent", 256)
	mac := cred.GuestMAC
	for _, ch := range changes {
		idx := -1
		for i, b := range next {
			if bindingKeyOf(b) == ch.key {
				idx = i
				break
			}
		}
		if ch.expires == 0 {
			if idx >= 0 {
				next = append(next[:idx:idx], next[idx+1:]...)
				changed = true
			}
			continue
		}
		if mac == "" {
			mac = macIn(ch.instance, ua)
		}
		b := &Binding{
			Tenant: t.slug, AOR: user, Contact: ch.contact, Instance: ch.instance,
			Expires: now.Add(time.Duration(ch.expires) * time.Second),
			Source:  in.src.String(), Transport: in.transport, UserAgent: ua,
			Username: cred.Username, Extension: cred.Extension, UserID: cred.UserID, MAC: mac,
			CallID: callID, CSeq: cseq, Updated: now,
		}
		if idx >= 0 {
			next = append(next[:idx:idx], next[idx+1:]...)
		}
		next = append(next, b)
		changed = true
	}
	// Per-AOR limit: drop the oldest bindings (the last appended are the newest).
	for len(next) > limit {
		oldest := 0
		for i, b := range next {
			if b.Updated.Before(next[oldest].Updated) {
				oldest = i
			}
		}
		next = append(next[:oldest:oldest], next[oldest+1:]...)
		changed = true
	}
	a.bindings = next
	if changed {
		s.bindings.markDirty(t.slug, user)
	}
	s.answerBindings(in, w, next, now)
	if in.transport == "UDP" {
		s.challenges.accept(w.transactionKey(s.challenges))
	}
	return true
}

// answerCurrent answers 200 with the AOR's live bindings, changing nothing.
func (s *Server) answerCurrent(in *inbound, w *replyWriter, tenant, user string) {
	now := s.now()
	var live []*Binding
	if a := s.bindings.get(tenant, user, false); a != nil {
		a.mu.Lock()
		live = a.live(now)
		a.mu.Unlock()
	}
	s.answerBindings(in, w, live, now)
}

// answerBindings sends 200 listing every binding with its remaining expiry and a Date
// header (RFC 3261 §10.3 step 8).
func (s *Server) answerBindings(in *inbound, w *replyWriter, bs []*Binding, now time.Time) {
	w.status(200, "OK")
	for _, b := range bs {
		left := int(b.Expires.Sub(now) / time.Second)
		if left <= 0 {
			continue
		}
		w.b = append(w.b, "Contact: "...)
		w.b = append(w.b, b.Contact...)
		w.b = append(w.b, ";expires="...)
		w.b = strconv.AppendInt(w.b, int64(left), 10)
		w.b = append(w.b, "\r\n"...)
	}
	w.header("Date", s.date.get())
	in.send(w.finish())
}

// contactChange validates one Contact and works out its expiry: the Contact's expires
// parameter, else the Expires header, else the default, capped at the maximum.
func (s *Server) contactChange(c *sip.ContactHeader, hdrExpires int) (contactChange, bool) {
	exp := hdrExpires
	if v, ok := c.Params.Get("expires"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return contactChange{}, false
		}
		exp = n
	}
	if exp < 0 {
		exp = s.cfg.DefaultExpires
	}
	if exp > s.cfg.MaxExpires {
		exp = s.cfg.MaxExpires
	}
	if c.Address.Host == "" {
		return contactChange{}, false
	}
	uri := c.Address.String()
	var b strings.Builder
	b.Grow(len(uri) + 32)
	b.WriteByte('<')
	b.WriteString(uri)
	b.WriteByte('>')
	instance := ""
	for _, kv := range c.Params {
		if kv.K == "expires" {
			continue
		}
		if kv.K == "+sip.instance" {
			instance = kv.V
		}
		b.WriteByte(';')
		b.WriteString(kv.K)
		if kv.V != "" {
			b.WriteByte('=')
			b.WriteString(kv.V)
		}
	}
	contact := b.String()
	if len(contact) > 512 {
		return contactChange{}, false
	}
	key := uri
	if instance != "" {
		key = instance
	}
	return contactChange{key: key, contact: contact, instance: instance, expires: exp}, true
}

func bindingKeyOf(b *Binding) string {
	if b.Instance != "" {
		return b.Instance
	}
	u := b.Contact
	if i := strings.IndexByte(u, '>'); i > 0 && u[0] == '<' {
		return u[1:i]
	}
	return u
}

func headerValue(req *sip.Request, name string, max int) string {
	h := req.GetHeader(name)
	if h == nil {
		return ""
	}
	v := h.Value()
	if len(v) > max {
		v = v[:max]
	}
	return v
}

// macIn finds a MAC address (12 hex digits) in a +sip.instance URN or a User-Agent, as
// Yealink, Polycom and others put it there; "" when none.
func macIn(instance, ua string) string {
	for _, s := range []string{instance, ua} {
		run, start := 0, 0
		for i := 0; i <= len(s); i++ {
			if i < len(s) && isHex(s[i]) {
				if run == 0 {
					start = i
				}
				run++
				continue
			}
			if run == 12 {
				if m, ok := store.NormalizeMAC(s[start:i]); ok && m != "000000000000" {
					return m
				}
			}
			run = 0
		}
	}
	return ""
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
