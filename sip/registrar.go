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
	if s.sourceBlocked(in.src) {
		in.send(w.simple(403, "Forbidden"))
		return nil, false
	}
	v, cred := s.authenticate(req, in.src.Addr(), proxy, t)
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
				if s.bindings.acceptedRecently(t.slug, user, w.transactionKey(s.challenges), s.now()) {
					s.answerCurrent(in, w, t.slug, user)
					return nil, false
				}
			}
		}
		s.writeChallenge(w, proxy, t, true)
		in.send(w.finish())
	case authChallenge:
		s.writeChallenge(w, proxy, t, false)
		in.send(w.finish())
	case authStale:
		s.writeChallenge(w, proxy, t, true)
		in.send(w.finish())
	case authFailed:
		s.failedPassword(in.src)
		in.send(w.simple(403, "Forbidden"))
	}
	return nil, false
}

// requireTokens lists the Require option tags; we support none for REGISTER.
func requireTokens(req *sip.Request) string {
	var out []string
	for _, h := range req.Headers() {
		if !strings.EqualFold(h.Name(), "Require") {
			continue
		}
		for _, tok := range strings.Split(h.Value(), ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				out = append(out, tok)
			}
		}
	}
	return strings.Join(out, ", ")
}

// contactChange is one Contact of a REGISTER, validated before anything changes. Its
// contact (as stored and echoed, without expires) and URI are ranges of the writer's
// scratch buffer until a binding needs them as strings.
type contactChange struct {
	contact, uri [2]int
	instance     string // +sip.instance, the binding's key when present
	expires      int
}

// applyRegister updates the AOR's bindings all-or-nothing and answers. With onlyRepeat it
// only answers a retransmission (same Call-ID and CSeq) and reports whether it did.
func (s *Server) applyRegister(req *sip.Request, in *inbound, w *replyWriter, t *tenantInfo, cred *credential, user string, onlyRepeat bool) bool {
	now := s.now()
	// Expires header (RFC 3261 §10.2.1.1).
	hdrExpires := -1
	if h := firstHeader(req, "Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			in.send(w.simple(400, "Bad Request"))
			return true
		}
		hdrExpires = n
	}
	var contactBuf [4]sip.Header
	contacts := contactBuf[:0]
	for _, h := range req.Headers() {
		if _, ok := h.(*sip.ContactHeader); ok || strings.EqualFold(h.Name(), "Contact") {
			contacts = append(contacts, h)
		}
	}
	if len(contacts) > maxContactsPerRequest {
		in.send(w.simple(400, "Bad Request"))
		return true
	}
	wildcard := false
	var changeBuf [4]contactChange
	changes := changeBuf[:0]
	w.scratch = w.scratch[:0]
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
		ch, ok := s.contactChange(c, hdrExpires, w)
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
	// persist: whether the store must hear of this change. A refresh that changes
	// nothing but the expiry (and Call-ID/CSeq) is kept in memory only while what the
	// store holds still covers most of the new interval (see refreshOnly).
	persist := len(next) != len(a.bindings)
	if wildcard {
		next, persist = nil, len(live) > 0
	}
	ua := headerValue(req, "User-Agent", 256)
	mac := cred.GuestMAC
	var srcBuf [64]byte
	src := in.src.AppendTo(srcBuf[:0])
	for _, ch := range changes {
		contact, uri := w.scratch[ch.contact[0]:ch.contact[1]], w.scratch[ch.uri[0]:ch.uri[1]]
		idx := -1
		for i, b := range next {
			if ch.instance != "" && bindingKeyOf(b) == ch.instance || ch.instance == "" && bindingKeyOf(b) == string(uri) {
				idx = i
				break
			}
		}
		if ch.expires == 0 {
			if idx >= 0 {
				next = append(next[:idx:idx], next[idx+1:]...)
				persist = true
			}
			continue
		}
		if mac == "" && idx >= 0 && next[idx].Instance == ch.instance && next[idx].UserAgent == ua {
			mac = next[idx].MAC // a refresh: the same words name the same MAC
		} else if mac == "" {
			mac = macIn(ch.instance, ua)
		}
		b := &Binding{
			Tenant: t.slug, AOR: user, Instance: ch.instance,
			Expires:   now.Add(time.Duration(ch.expires) * time.Second),
			Transport: in.transport, UserAgent: ua,
			Username: cred.Username, Extension: cred.Extension, UserID: cred.UserID, MAC: mac,
			CallID: callID, CSeq: cseq, Updated: now,
		}
		// A refresh keeps the strings it already has: no allocation for them.
		if idx >= 0 && next[idx].Contact == string(contact) {
			b.Contact = next[idx].Contact
		} else {
			b.Contact = string(contact)
		}
		if idx >= 0 && next[idx].Source == string(src) {
			b.Source = next[idx].Source
		} else {
			b.Source = string(src)
		}
		if idx >= 0 {
			if !refreshOnly(next[idx], b, a.storedUntil, now) {
				persist = true
			}
			next = append(next[:idx:idx], next[idx+1:]...)
		} else {
			persist = true
		}
		next = append(next, b)
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
		persist = true
	}
	a.bindings = next
	if persist {
		a.storedUntil = earliestExpiry(next)
		s.bindings.markDirty(t.slug, user)
	}
	s.answerBindings(in, w, next, now)
	if in.transport == "UDP" {
		a.remember(w.transactionKey(s.challenges), now)
	}
	return true
}

// refreshOnly reports whether replacing binding old by nw changes nothing the store
// must hear of at once: the same contact from the same place and device, only a later
// expiry (and a new Call-ID/CSeq), while the stored bindings of the AOR (all valid until
// storedUntil) still cover three quarters of the new interval. A phone refreshes before
// its interval ends, so after a restart its stored binding lasts until its next
// REGISTER; persisting every refresh would cost a store write per REGISTER.
func refreshOnly(old, nw *Binding, storedUntil, now time.Time) bool {
	if old.Contact != nw.Contact || old.Instance != nw.Instance || old.Source != nw.Source ||
		old.Transport != nw.Transport || old.UserAgent != nw.UserAgent || old.Username != nw.Username ||
		old.Extension != nw.Extension || old.UserID != nw.UserID || old.MAC != nw.MAC {
		return false
	}
	return storedUntil.Sub(now) > nw.Expires.Sub(now)*3/4
}

// earliestExpiry is the first expiry among bs (zero when empty).
func earliestExpiry(bs []*Binding) time.Time {
	var t time.Time
	for _, b := range bs {
		if t.IsZero() || b.Expires.Before(t) {
			t = b.Expires
		}
	}
	return t
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
// parameter, else the Expires header, else the default, capped at the maximum. The
// contact text goes into w.scratch.
func (s *Server) contactChange(c *sip.ContactHeader, hdrExpires int, w *replyWriter) (contactChange, bool) {
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
	var ch contactChange
	ch.contact[0] = len(w.scratch)
	w.scratch = append(w.scratch, '<')
	ch.uri[0] = len(w.scratch)
	c.Address.StringWrite((*scratchWriter)(&w.scratch))
	ch.uri[1] = len(w.scratch)
	w.scratch = append(w.scratch, '>')
	for _, kv := range c.Params {
		if kv.K == "expires" {
			continue
		}
		if kv.K == "+sip.instance" {
			ch.instance = kv.V
		}
		w.scratch = append(w.scratch, ';')
		w.scratch = append(w.scratch, kv.K...)
		if kv.V != "" {
			w.scratch = append(w.scratch, '=')
			w.scratch = append(w.scratch, kv.V...)
		}
	}
	ch.contact[1] = len(w.scratch)
	if ch.contact[1]-ch.contact[0] > 512 {
		return contactChange{}, false
	}
	ch.expires = exp
	return ch, true
}

// scratchWriter lets sipgo write a URI into a byte slice.
type scratchWriter []byte

func (b *scratchWriter) WriteString(s string) (int, error) {
	*b = append(*b, s...)
	return len(s), nil
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
	h := firstHeader(req, name)
	if h == nil {
		return ""
	}
	v := h.Value()
	if len(v) > max {
		v = v[:max]
	}
	return v
}

// macIn finds a MAC address in a +sip.instance URN or a User-Agent, as Yealink, Cisco,
// Grandstream, Fanvil and others put it there: 12 hex digits on their own
// ("(00562b043615)", "DevId c074ad010203", a UUID's last group) or written in six pairs
// ("80:5e:c0:aa:bb:cc", Yealink's User-Agent; "80-5e-c0-aa-bb-cc"). "" when none.
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
			if run == 2 && pairedMAC(s, start) {
				if m, ok := store.NormalizeMAC(s[start : start+17]); ok && m != "000000000000" {
					return m
				}
			}
			run = 0
		}
	}
	return ""
}

// pairedMAC: s holds "xx:xx:xx:xx:xx:xx" or "xx-xx-xx-xx-xx-xx" at start, one
// separator throughout, standing alone (no hex digit or separator either side).
func pairedMAC(s string, start int) bool {
	end := start + 17
	if end > len(s) || s[start+2] != ':' && s[start+2] != '-' {
		return false
	}
	sep := s[start+2]
	for i := start; i < end; i++ {
		if (i-start)%3 == 2 {
			if s[i] != sep {
				return false
			}
		} else if !isHex(s[i]) {
			return false
		}
	}
	alone := func(i int) bool { return i < 0 || i >= len(s) || !isHex(s[i]) && s[i] != sep }
	return alone(start-1) && alone(end)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
