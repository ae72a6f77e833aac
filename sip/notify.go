package sip

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// ErrNotRegistered: the phone has no live binding to send a NOTIFY to.
var ErrNotRegistered = errors.New("phone not registered")

// Resync sends the phone an out-of-dialog NOTIFY with its make's resync event
// (NotifyEvent) so that it fetches its configuration again, answering the phone's digest
// challenge if it sends one. It returns when every registered contact of the phone
// answered.
func (s *Server) Resync(ctx context.Context, mac string) error {
	return s.notifyPhone(ctx, mac, false)
}

// Reboot is Resync with the make's reboot event: the phone restarts, then provisions.
func (s *Server) Reboot(ctx context.Context, mac string) error {
	return s.notifyPhone(ctx, mac, true)
}

func (s *Server) notifyPhone(ctx context.Context, mac string, reboot bool) error {
	return s.notifyPhoneThen(ctx, mac, reboot, nil)
}

// notifyPhoneThen is notifyPhone calling targeted (when not nil) once the bindings the
// NOTIFYs go to are chosen, before they are sent.
func (s *Server) notifyPhoneThen(ctx context.Context, mac string, reboot bool, targeted func()) error {
	m, ok := store.NormalizeMAC(mac)
	if !ok {
		return fmt.Errorf("mac %q: %w", mac, store.ErrInvalid)
	}
	targets, mk, err := s.phoneBindings(m)
	if targeted != nil {
		targeted()
	}
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return fmt.Errorf("phone %s: %w", m, ErrNotRegistered)
	}
	var first error
	for _, b := range targets {
		if mk == "" {
			mk = provision.ParseUserAgent(b.UserAgent).Make
		}
		if err := s.checkSync(ctx, b, NotifyEvent(mk, reboot)); err != nil && first == nil {
			first = fmt.Errorf("phone %s: %w", m, err)
		}
	}
	return first
}

// NotifyEvent is the Event header that makes a phone of make mk fetch its configuration
// again, or reboot. Cisco's SPA and MPP firmware act on "Event: resync" and
// "Event: reboot" (Cisco SPA administration guide, "Resync From SIP"); Yealink, Poly,
// Snom, Fanvil, Grandstream and Gigaset act on "check-sync", where ";reboot=true" asks
// for a restart (Yealink admin guide, sip.notify_reboot_enable; Gigaset wiki "SIP:
// Check-sync message"; Snom checksync_action) and ";reboot=false" for a resync only.
func NotifyEvent(mk provision.Make, reboot bool) string {
	if mk == provision.Cisco {
		if reboot {
			return "reboot"
		}
		return "resync"
	}
	if reboot {
		return "check-sync;reboot=true"
	}
	return "check-sync;reboot=false"
}

// phoneBindings finds the bindings of a phone and its make (from its record, else from
// the User-Agent it last fetched with; "" when neither tells): those of the SIP accounts it registers
// with, narrowed to the ones that name its MAC (or come from its last address) when the
// account is shared by several phones. A binding that names the phone's MAC counts
// whatever its account: a flex phone just logged out still registers the user's line
// until it fetches its guest config.
func (s *Server) phoneBindings(mac string) ([]Binding, provision.Make, error) {
	p, usernames, err := s.cfg.Directory.Phone(mac)
	if err != nil {
		return nil, "", fmt.Errorf("phone %s: %w", mac, err)
	}
	mk, ok := provision.ParseMake(p.Make)
	if !ok {
		mk = provision.ParseUserAgent(p.UserAgent).Make
	}
	var all []Binding
	s.bindings.each(p.Tenant, func(b Binding) {
		if b.MAC == mac || slices.Contains(usernames, b.Username) {
			all = append(all, b)
		}
	})
	var mine []Binding
	lastIP := ""
	if ap, err := netip.ParseAddrPort(p.LastAddr); err == nil {
		lastIP = ap.Addr().String()
	} else if a, err := netip.ParseAddr(p.LastAddr); err == nil {
		lastIP = a.String()
	}
	for _, b := range all {
		src, _ := netip.ParseAddrPort(b.Source)
		if b.MAC == mac || (b.MAC == "" && lastIP != "" && src.Addr().String() == lastIP) {
			mine = append(mine, b)
		}
	}
	if len(mine) == 0 && len(all) == 1 && all[0].MAC == "" {
		mine = all // one phone on the account, and it did not say its MAC
	}
	return mine, mk, nil
}

// checkSync runs one NOTIFY client transaction to a binding, with one retry carrying
// credentials when the phone challenges (RFC 3261 §22.2).
func (s *Server) checkSync(ctx context.Context, b Binding, event string) error {
	callID := randHex(12) + "@dialtone"
	fromTag := randHex(6)
	var auth string
	for cseq := 1; cseq <= 2; cseq++ {
		res, err := s.transact(ctx, b, event, callID, fromTag, cseq, auth)
		if err != nil {
			return err
		}
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			return nil
		case (res.StatusCode == 401 || res.StatusCode == 407) && cseq == 1:
			auth, err = s.answerChallenge(res, b)
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("NOTIFY answered %d %s", res.StatusCode, res.Reason)
		}
	}
	return errors.New("NOTIFY refused after authentication")
}

// answerChallenge builds the Authorization (or Proxy-Authorization) header for the
// phone's challenge with the credentials of the account the phone registered.
func (s *Server) answerChallenge(res *sip.Response, b Binding) (string, error) {
	cred, err := s.accounts.credential(b.Username)
	if err != nil {
		return "", fmt.Errorf("credentials for the phone's challenge: %w", err)
	}
	if hname, value, _, ok := uacCredentials(res, "NOTIFY", contactURI(b.Contact), cred.Username, cred.Password); ok {
		return hname + ": " + value, nil
	}
	return "", errors.New("phone sent no challenge we can answer")
}

// transact runs one NOTIFY client transaction (clienttx.go) to the binding: over UDP
// from our socket, to a binding made over TCP or TLS over that binding's connection.
func (s *Server) transact(ctx context.Context, b Binding, event, callID, fromTag string, cseq int, auth string) (*sip.Response, error) {
	dst, err := netip.ParseAddrPort(b.Source)
	if err != nil {
		return nil, fmt.Errorf("binding source %q: %w", b.Source, err)
	}
	transport := "UDP"
	if b.Transport == "TCP" || b.Transport == "TLS" {
		transport = b.Transport
	}
	h, err := s.hopTo(transport, unmapped(dst))
	if errors.Is(err, errNoFlow) {
		// A binding made over a connection is reached over that connection only
		// (RFC 5626 §5.3): a phone behind NAT cannot be reached otherwise, and one that
		// registered over TLS must never get its NOTIFY in clear over another transport.
		s.flowsLost.Add(1)
		s.log.Warn("check-sync NOTIFY not sent: the phone's connection is gone",
			"tenant", b.Tenant, "aor", b.AOR, "transport", b.Transport, "source", b.Source)
		return nil, fmt.Errorf("%s connection of the binding is gone: %w", b.Transport, ErrNotRegistered)
	}
	if err != nil {
		return nil, err
	}
	branch := "z9hG4bK" + randHex(10)
	return s.sendNotify(ctx, s.buildNotify(b, event, transport, h.LocalAddr(), branch, callID, fromTag, cseq, auth), h)
}

// sendNotify runs the client transaction of a NOTIFY (check-sync or BLF) and tells
// its failures as a NOTIFY's.
func (s *Server) sendNotify(ctx context.Context, msg []byte, h *hop) (*sip.Response, error) {
	res, err := s.request(ctx, msg, h, txBound{})
	switch {
	case errors.Is(err, errNoAnswer):
		return nil, errors.New("NOTIFY timed out (RFC 3261 Timer F)")
	case errors.Is(err, errClosed):
		return nil, errors.New("registrar closed")
	}
	return res, err
}

// buildNotify writes the check-sync NOTIFY (RFC 3265 §3.2 with Event: check-sync, as
// phones expect it; Subscription-State: terminated since there is no subscription).
func (s *Server) buildNotify(b Binding, event, transport string, local net.Addr, branch, callID, fromTag string, cseq int, auth string) []byte {
	host := s.cfg.PublicHost
	if ap, err := netip.ParseAddrPort(local.String()); err == nil {
		if !ap.Addr().IsUnspecified() {
			host = ap.Addr().String()
			if ap.Addr().Is6() {
				host = "[" + host + "]"
			}
		}
		host += ":" + strconv.Itoa(int(ap.Port()))
	}
	domain := s.cfg.PublicHost
	if ti, err := s.accounts.tenant(b.Tenant); err == nil && ti.realm != "" {
		domain = ti.realm
	}
	uri := contactURI(b.Contact)
	var m strings.Builder
	m.Grow(512)
	m.WriteString("NOTIFY " + uri + " SIP/2.0\r\n")
	m.WriteString("Via: SIP/2.0/" + transport + " " + host + ";branch=" + branch + ";rport\r\n")
	m.WriteString("Max-Forwards: 70\r\n")
	m.WriteString("From: <sip:dialtone@" + domain + ">;tag=" + fromTag + "\r\n")
	m.WriteString("To: <sip:" + b.AOR + "@" + domain + ">\r\n")
	m.WriteString("Call-ID: " + callID + "\r\n")
	m.WriteString("CSeq: " + strconv.Itoa(cseq) + " NOTIFY\r\n")
	if transport == "TLS" {
		m.WriteString("Contact: <sip:dialtone@" + host + ";transport=tls>\r\n")
	} else {
		m.WriteString("Contact: <sip:dialtone@" + host + ">\r\n")
	}
	m.WriteString("Event: " + event + "\r\n")
	m.WriteString("Subscription-State: terminated\r\n")
	if auth != "" {
		m.WriteString(auth + "\r\n")
	}
	m.WriteString("User-Agent: Dialtone\r\nContent-Length: 0\r\n\r\n")
	return []byte(m.String())
}

func contactURI(contact string) string {
	if i := strings.IndexByte(contact, '>'); i > 0 && contact[0] == '<' {
		return contact[1:i]
	}
	return contact
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
