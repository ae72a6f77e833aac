package sip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// SIP plug-and-play (the ua-profile event package of the SIP configuration framework,
// as Snom, Yealink, Fanvil, Gigaset and Grandstream phones use it): a phone that does
// not know where its configuration is sends SUBSCRIBE with Event: ua-profile to the
// multicast group 224.0.1.75:5060 (or to a SIP server it was given); the server answers
// 200 and then sends a NOTIFY whose application/url body is the provisioning URL.

// PnPGroup is the SIP multicast group (IANA "SIP" 224.0.1.75) phones subscribe to.
var PnPGroup = netip.MustParseAddr("224.0.1.75")

// PnPDesk decides what a plug-and-play SUBSCRIBE is answered with: the provisioning
// URL for a phone of this MAC subscribing from src (cmd/dialtone wires package
// provision). An error means no tenant answers: the SUBSCRIBE is left unanswered, so
// another server on the segment may answer it.
type PnPDesk interface {
	Offer(src netip.Addr, mac, userAgent string) (url string, err error)
}

// pnpPolicy: a source is sent at most four NOTIFYs a minute (then nothing for a
// minute), so SUBSCRIBEs with forged source addresses cannot turn the server into a
// NOTIFY cannon aimed at someone else. A phone subscribes once per boot.
var pnpPolicy = ratelimit.Policy{Limit: 4, Window: time.Minute, Block: time.Minute, MaxKeys: 100_000, Name: "sip-pnp"}

// pnpInFlight bounds the NOTIFY transactions running at once (each a goroutine for at
// most pnpGiveUp); over it, a SUBSCRIBE is answered 503.
const pnpInFlight = 64

// A plug-and-play NOTIFY is sent at most pnpSends times (Timer E doubling from T1) and
// given up after pnpGiveUp: a phone on the LAN answers within milliseconds, and a
// full Timer F of retransmissions towards a forged source would multiply what a
// datagram costs its victim.
const (
	pnpSends  = 4
	pnpGiveUp = 8 * time.Second
)

// PnPAnswered is how many plug-and-play NOTIFYs the phones answered 2xx.
func (s *Server) PnPAnswered() uint64 { return s.pnpAnswered.Load() }

// onSubscribe answers a SUBSCRIBE: Event dialog is BLF (dialogevent_subscribe.go), Event
// ua-profile plug-and-play; any other event package is refused with 489 and the
// packages we take in Allow-Events (RFC 6665 §8.2.1, §7.2.2).
func (s *Server) onSubscribe(req *sip.Request, in *inbound, w *replyWriter) {
	ev := req.GetHeader("Event")
	name := ""
	if ev != nil {
		name, _, _ = strings.Cut(ev.Value(), ";")
		name = strings.ToLower(strings.TrimSpace(name))
	}
	if name == "dialog" {
		s.onDialogSubscribe(req, in, w, ev.Value()) // BLF: dialogevent_subscribe.go
		return
	}
	if name != "ua-profile" || s.cfg.PnP == nil || in.transport != "UDP" {
		// presence and message-summary too, until there is something to say.
		w.status(489, "Bad Event")
		if s.cfg.PnP != nil {
			w.header("Allow-Events", "dialog, ua-profile")
		} else {
			w.header("Allow-Events", "dialog")
		}
		in.send(w.finish())
		return
	}
	mac, ok := pnpMAC(req)
	if !ok {
		in.send(w.simple(400, "Bad Request (no MAC address in the From user)"))
		return
	}
	key := ratelimit.Source(in.src.Addr())
	if blocked, _ := s.pnpGuard.Blocked(key); blocked {
		return // dropped: not even a 200 to an address that may be forged
	}
	if s.pnpGuard.Strike(key) {
		s.log.Warn("plug-and-play: source sent too many SUBSCRIBEs, ignored for a while", "source", key.String(),
			"limit_per_minute", pnpPolicy.Limit, "for", pnpPolicy.Block.String())
	}
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	url, err := s.cfg.PnP.Offer(in.src.Addr(), mac, ua)
	if err != nil {
		s.log.Debug("plug-and-play SUBSCRIBE not answered", "source", in.src.String(), "mac", mac, "err", err)
		return
	}
	select {
	case s.pnpSem <- struct{}{}:
	default:
		in.send(w.simple(503, "Service Unavailable"))
		return
	}
	// RFC 6665 §4.2.1.1: accepted at once; Expires 0 since the one NOTIFY that follows
	// ends the subscription (a fetch of state, §4.1.2.3).
	local := in.local
	w.status(200, "OK")
	w.header("Expires", "0")
	w.header("Contact", "<sip:"+hostPort(local, s.cfg.PublicHost)+">")
	in.send(w.finish())

	n := s.pnpNotify(req, ev.Value(), url, local)
	src, h := in.src, hopOf(in)
	s.log.Info("plug-and-play: phone pointed at its provisioning URL", "mac", mac, "source", src.String()) // not the URL: it carries the token
	go func() {
		defer func() { <-s.pnpSem }()
		defer crash.Recover(s.log, "sip", "plug-and-play NOTIFY")
		if err := s.pnpTransact(n, h); err != nil {
			s.log.Info("plug-and-play NOTIFY not answered", "mac", mac, "source", src.String(), "err", err)
			return
		}
		s.pnpAnswered.Add(1)
	}()
}

// pnpMAC reads the phone's MAC from the From user, the way each make writes it:
// "MAC%3a0015651234ab" (Yealink, Fanvil, Snom: "MAC:" percent-encoded), "MAC=…", or
// the bare 12 hex digits; then from the Request-URI user.
func pnpMAC(req *sip.Request) (string, bool) {
	users := []string{req.From().Address.User, req.Recipient.User}
	for _, u := range users {
		u = strings.ToLower(strings.TrimSpace(u))
		for _, p := range []string{"mac%3a", "mac%3d", "mac:", "mac="} {
			if strings.HasPrefix(u, p) {
				u = u[len(p):]
				break
			}
		}
		if len(u) != 12 {
			continue // only the 12-digit form: no separators in a SIP user part
		}
		if m, ok := store.NormalizeMAC(u); ok {
			return m, true
		}
	}
	return "", false
}

// pnpNotify writes the NOTIFY (RFC 6665 §4.1.2, §8.2.3; RFC 3261 §12.2.1.1 for the
// in-dialog headers): to the SUBSCRIBE's Contact (the phone's remote target), From the
// SUBSCRIBE's To with our tag, To its From, its Call-ID, the Event it sent (with its
// parameters, as vendors expect them echoed), Subscription-State terminated.
func (s *Server) pnpNotify(req *sip.Request, event, url string, local netip.AddrPort) []byte {
	target := req.From().Address.String()
	if c := req.Contact(); c != nil {
		target = c.Address.String()
	}
	to := req.To().Value()
	if _, ok := req.To().Params.Get("tag"); !ok {
		to += ";tag=" + s.tag
	}
	host := hostPort(local, s.cfg.PublicHost)
	branch := "z9hG4bK" + randHex(10)
	if len(event) > 512 {
		event = "ua-profile"
	}
	var m strings.Builder
	m.Grow(640 + len(url))
	m.WriteString("NOTIFY " + target + " SIP/2.0\r\n")
	m.WriteString("Via: SIP/2.0/UDP " + host + ";branch=" + branch + ";rport\r\n")
	m.WriteString("Max-Forwards: 70\r\n")
	m.WriteString("From: " + to + "\r\n")
	m.WriteString("To: " + req.From().Value() + "\r\n")
	m.WriteString("Call-ID: " + req.CallID().Value() + "\r\n")
	m.WriteString("CSeq: 1 NOTIFY\r\n")
	m.WriteString("Contact: <sip:" + host + ">\r\n")
	m.WriteString("Event: " + event + "\r\n")
	m.WriteString("Subscription-State: terminated;reason=timeout\r\n")
	m.WriteString("Content-Type: application/url\r\n")
	m.WriteString("User-Agent: Dialtone\r\n")
	m.WriteString("Content-Length: " + strconv.Itoa(len(url)) + "\r\n\r\n")
	m.WriteString(url)
	return []byte(m.String())
}

// pnpTransact sends the NOTIFY to the address the SUBSCRIBE came from — never to its
// Contact, which a forged SUBSCRIBE could point anywhere: as responses go to the
// request's source (RFC 3581 §4), so does the one request a SUBSCRIBE earns — and waits
// for the phone's final answer (clienttx.go), sent pnpSends times at most and given up
// after pnpGiveUp.
func (s *Server) pnpTransact(msg []byte, h *hop) error {
	r, err := s.request(context.Background(), msg, h, txBound{sends: pnpSends, giveUp: pnpGiveUp})
	switch {
	case errors.Is(err, errNoAnswer):
		return context.DeadlineExceeded
	case errors.Is(err, errClosed):
		return errors.New("registrar closed")
	case err != nil:
		return err
	case r.StatusCode >= 300:
		return errors.New("NOTIFY answered " + strconv.Itoa(r.StatusCode) + " " + r.Reason)
	}
	return nil
}

// hostPort writes a local address for Via and Contact; an unspecified one is replaced
// by the public host.
func hostPort(local netip.AddrPort, public string) string {
	if !local.IsValid() {
		return public
	}
	h := public
	if a := local.Addr().Unmap(); !a.IsUnspecified() {
		h = a.String()
		if a.Is6() {
			h = "[" + h + "]"
		}
	}
	return h + ":" + strconv.Itoa(int(local.Port()))
}

// JoinPnP joins the plug-and-play multicast group on pc (a UDP socket bound to the
// wildcard address, which then receives the group's datagrams on its port) on each
// named interface, or on every interface that is up, multicast-capable and not
// loopback when names is empty. It answers the interfaces joined; none joined is an
// error the caller logs (unicast SUBSCRIBEs are still answered).
func JoinPnP(pc net.PacketConn, names []string) ([]string, error) {
	return joinGroup(pc, PnPGroup, names)
}
