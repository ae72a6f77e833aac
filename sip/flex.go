package sip

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/emiago/sipgo/sip"
)

// FlexDesk holds the flex login rules (PIN check and lock, one phone per user,
// auto-logout, audit); cmd/dialtone wires an implementation over the store. Its errors
// are mapped by errors.Is: ErrFlexLocked -> "403 Locked, try later", anything else ->
// "403 Wrong extension or PIN" (the same text whichever part was wrong).
type FlexDesk interface {
	// Login binds the phone to the user who owns the extension, if pin is theirs.
	Login(ctx context.Context, l FlexLogin) error
	// Logout returns the phone to its guest profile.
	Logout(ctx context.Context, l FlexLogout) error
}

// FlexLogin is one login attempt dialled from a flex phone.
type FlexLogin struct {
	Tenant    string
	MAC       string // the phone (from its guest account or its registration)
	Extension string
	PIN       string // never logged
	Source    string // ip:port of the INVITE
}

// FlexLogout is a logout dialled from a phone.
type FlexLogout struct {
	Tenant   string
	MAC      string // "" when the registrar cannot tell the phone
	UserID   string // the user logged in, from the credentials of the INVITE
	Username string
	Source   string
}

var (
	// ErrFlexWrong: wrong extension or PIN, or a phone that is not in flex mode.
	ErrFlexWrong = errors.New("wrong extension or PIN")
	// ErrFlexLocked: too many wrong PINs for the extension.
	ErrFlexLocked = errors.New("flex login locked")
	// ErrFlexNotYours: *56 from a line whose user is not the one logged in at the phone.
	ErrFlexNotYours = errors.New("another user is logged in at this phone")
)

const flexTimeout = 5 * time.Second

// notYours is the answer to *56 from a line that may not log the phone out.
const notYours = "Only the logged-in user may log out"

// onInvite handles INVITEs: flex codes (RFC 3261 §8.2: answered with a final non-2xx
// whose reason phrase the phone shows); we set up no calls.
func (s *Server) onInvite(req *sip.Request, in *inbound, w *replyWriter) {
	branch, _ := req.Via().Params.Get("branch")
	key := in.src.String() + "|" + branch
	if ans, state := s.invites.get(key); state == answerDone {
		in.send(ans) // retransmitted INVITE: the same final answer (RFC 3261 §17.2.1)
		return
	} else if state == answerPending {
		return
	}
	select {
	case s.flexSem <- struct{}{}:
	default:
		in.send(w.simple(503, "Service Unavailable"))
		return
	}
	s.invites.start(key)
	own := &inbound{src: in.src, transport: in.transport, write: in.write}
	go func() {
		defer func() { <-s.flexSem }()
		defer crash.Recover(s.log, "sip", "INVITE")
		ow := &replyWriter{b: make([]byte, 0, 1024), req: req, src: own.src, tag: s.tag}
		s.invite(req, own, ow)
		s.invites.finish(key, slices.Clone(ow.b))
	}()
}

// invite answers one INVITE; the final answer is left in w.b for the retransmission cache.
func (s *Server) invite(req *sip.Request, in *inbound, w *replyWriter) {
	host := req.Recipient.Host
	t, err := s.accounts.tenantFor(host)
	if err != nil {
		t, err = s.accounts.tenantFor(req.To().Address.Host)
	}
	if err != nil {
		in.send(w.simple(404, "Not Found"))
		return
	}
	// Authenticated like a REGISTER, with a 407 challenge (RFC 3261 §22.3).
	cred, ok := s.authorize(req, in, w, true, t)
	if !ok {
		return
	}
	dialled := req.Recipient.User
	code, isCode := ParseFlexCode(dialled)
	if !isCode && strings.HasPrefix(dialled, "*55") {
		// A login code with letters, empty parts or overlong digits: the same words as a
		// wrong PIN, so nothing tells a mistyped code from a wrong one.
		in.send(w.simple(403, "Wrong extension or PIN"))
		return
	}
	if !isCode {
		// A guest account may dial only flex codes and the tenant's emergency numbers.
		if cred.GuestMAC != "" && !slices.Contains(t.emergency, dialled) {
			in.send(w.simple(403, "Forbidden"))
			return
		}
		in.send(w.simple(404, "Not Found")) // no call routing here
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flexTimeout)
	defer cancel()
	mac := cred.GuestMAC
	if mac == "" {
		mac = s.macOfSource(t.slug, cred.Username, in.src)
	}
	if s.flex == nil {
		in.send(w.simple(403, "Wrong extension or PIN"))
		return
	}
	if code.Logout {
		if !s.mayLogOut(t.slug, mac, cred) {
			s.log.Info("flex logout refused: not the phone's user or guest line", "tenant", t.slug, "mac", mac)
			in.send(w.simple(403, notYours))
			return
		}
		err := s.flex.Logout(ctx, FlexLogout{Tenant: t.slug, MAC: mac, UserID: cred.UserID,
			Username: cred.Username, Source: in.src.String()})
		switch {
		case errors.Is(err, ErrFlexNotYours):
			in.send(w.simple(403, notYours))
			return
		case err != nil:
			s.log.Info("flex logout refused", "tenant", t.slug, "mac", mac, "err", err)
			in.send(w.simple(403, "Not logged in"))
			return
		}
		in.send(w.simple(603, "Logged out"))
		return
	}
	if mac == "" {
		in.send(w.simple(403, "Wrong extension or PIN")) // not a flex phone we can tell
		return
	}
	err = s.flex.Login(ctx, FlexLogin{Tenant: t.slug, MAC: mac, Extension: code.Extension,
		PIN: code.PIN, Source: in.src.String()})
	switch {
	case err == nil:
		in.send(w.simple(603, "Logged in "+code.Extension))
	case errors.Is(err, ErrFlexLocked):
		in.send(w.simple(403, "Locked, try later"))
	default:
		if !errors.Is(err, ErrFlexWrong) {
			s.log.Warn("flex login failed", "tenant", t.slug, "mac", mac, "err", err)
		}
		in.send(w.simple(403, "Wrong extension or PIN"))
	}
}

// mayLogOut: *56 logs a flex phone out only when dialled from its guest line or from a
// line of the user logged in there (the authenticated account of the INVITE; the MAC
// that led here came from a User-Agent or +sip.instance, which any client may write).
// mac "" leaves the flex desk to find the one phone the caller's own user is at.
func (s *Server) mayLogOut(tenant, mac string, cred *credential) bool {
	if cred.GuestMAC != "" {
		return cred.GuestMAC == mac
	}
	if mac == "" {
		return true
	}
	p, names, err := s.accounts.dir.Phone(mac)
	if err != nil || p.Tenant != tenant || p.GuestUsername == cred.Username {
		return false
	}
	return slices.Contains(names, cred.Username)
}

// macOfSource finds the phone behind a logged-in account by the binding it registered
// from the same address.
func (s *Server) macOfSource(tenant, username string, src netip.AddrPort) string {
	mac := ""
	s.bindings.each(tenant, func(b Binding) {
		if b.Username != username || b.MAC == "" {
			return
		}
		if ap, err := netip.ParseAddrPort(b.Source); err == nil && ap.Addr() == src.Addr() {
			mac = b.MAC
		}
	})
	return mac
}

// answerCache keeps the final answers to INVITEs for Timer J so retransmissions get the
// same answer and a login is never run twice. Bounded: the oldest entries go first.
type answerCache struct {
	mu    sync.Mutex
	m     map[string]*cachedAnswer
	order []string
	max   int
	ttl   time.Duration
	now   func() time.Time
}

type cachedAnswer struct {
	b  []byte
	at time.Time
}

const (
	answerNone = iota
	answerPending
	answerDone
)

func newAnswerCache(max int, ttl time.Duration, now func() time.Time) *answerCache {
	return &answerCache{m: make(map[string]*cachedAnswer), max: max, ttl: ttl, now: now}
}

func (c *answerCache) get(key string) ([]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.m[key]
	switch {
	case a == nil || c.now().Sub(a.at) > c.ttl:
		return nil, answerNone
	case a.b == nil:
		return nil, answerPending
	}
	return a.b, answerDone
}

func (c *answerCache) start(key string) { c.put(key, nil) }

func (c *answerCache) finish(key string, b []byte) { c.put(key, b) }

func (c *answerCache) put(key string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.m[key]; ok {
		a.b, a.at = b, c.now()
		return
	}
	for len(c.order) >= c.max {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	c.m[key] = &cachedAnswer{b: b, at: c.now()}
	c.order = append(c.order, key)
}
