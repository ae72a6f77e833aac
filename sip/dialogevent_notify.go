package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/emiago/sipgo/sip"
)

// kick makes a NOTIFY due and sees that a sender will send it. A subscription has
// one NOTIFY in flight at most, sent in order; changes that come meanwhile go out
// together in the next, with the state as it is then. At most maxNotifySenders
// goroutines send at once (a NOTIFY to a phone gone silent waits Timer F, 32 s); the
// other subscriptions with a NOTIFY due wait their turn in order (d.mu held).
func (d *dialogEvents) kick(sub *subscription) {
	sub.dirty = true
	if sub.sending || sub.queued {
		return
	}
	if d.senders >= d.maxSenders {
		sub.queued = true
		d.waiting = append(d.waiting, sub)
		return
	}
	d.senders++
	sub.sending = true
	go d.send(sub)
}

// send runs the subscription's NOTIFY transactions while one is due, then those of
// the subscriptions waiting for a sender. A NOTIFY that fails (no answer within Timer
// F, an error answer, the connection gone) ends the subscription (RFC 6665 §4.2.2); the
// subscriber subscribes again.
func (d *dialogEvents) send(sub *subscription) {
	// A panic ends this sender and the subscription it was sending (the phone
	// subscribes again); the waiting ones get the next sender a kick starts.
	defer crash.RecoverWith(d.s.log, "sip", "BLF NOTIFY", func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if sub != nil {
			sub.sending, sub.dirty = false, false
			d.release(sub, "")
		}
		if next := d.nextWaiting(); next != nil {
			go d.send(next) // this sender's place goes to the next in line
		} else {
			d.senders--
		}
	})
	for sub != nil {
		d.notifyWhileDue(sub)
		d.mu.Lock()
		sub.sending = false
		if sub = d.nextWaiting(); sub == nil {
			d.senders--
		}
		d.mu.Unlock()
	}
}

// nextWaiting takes the next subscription waiting for a sender that still has a NOTIFY
// due, marked as being sent; nil when none (d.mu held).
func (d *dialogEvents) nextWaiting() *subscription {
	for len(d.waiting) > 0 {
		next := d.waiting[0]
		d.waiting[0] = nil
		d.waiting = d.waiting[1:]
		next.queued = false
		if next.dirty {
			next.sending = true
			return next
		}
	}
	return nil
}

// notifyWhileDue sends the subscription's NOTIFYs until none is due.
func (d *dialogEvents) notifyWhileDue(sub *subscription) {
	for {
		d.mu.Lock()
		if !sub.dirty {
			d.mu.Unlock()
			return
		}
		sub.dirty = false
		d.mu.Unlock()

		flow, err := d.s.dialogFlow(sub)
		var res *sip.Response
		final := false
		if err == nil {
			var msg []byte
			func() {
				d.mu.Lock()
				defer d.mu.Unlock()
				msg, final = d.notifyMessage(sub, flow)
			}()
			res, err = d.s.sendNotify(context.Background(), msg, flow.hop)
		}
		if err == nil && res.StatusCode >= 300 {
			err = fmt.Errorf("NOTIFY answered %d %s", res.StatusCode, res.Reason)
		}
		if err != nil {
			d.s.log.Info("BLF: NOTIFY failed, subscription ended", "tenant", sub.tenant, "extension", sub.ext,
				"subscriber", sub.username, "source", sub.src.String(), "err", err)
		}
		if err != nil || final {
			d.mu.Lock()
			d.release(sub, "")
			sub.dirty = false
			d.mu.Unlock()
			return
		}
	}
}

// flow is how a subscription's NOTIFY leaves: the UDP socket its SUBSCRIBE came in on,
// or its TCP or TLS connection.
type flow struct {
	*hop
	host string // our address for Via and Contact
}

var errFlowGone = errors.New("the subscriber's connection is gone")

// dialogFlow finds the way to the subscriber: over TCP and TLS its own connection only
// (RFC 5626 §5.3, as for check-sync); when that has closed the NOTIFY is not sent.
func (s *Server) dialogFlow(sub *subscription) (flow, error) {
	d := s.blf
	d.mu.Lock()
	transport, src, local, write := sub.transport, sub.src, sub.local, sub.write
	d.mu.Unlock()
	if transport == "UDP" {
		return flow{host: hostPort(local, s.cfg.PublicHost),
			hop: &hop{transport: "UDP", dst: src, local: local, write: write}}, nil
	}
	s.mu.Lock()
	tc := s.tcp[flowKey{transport, src}]
	s.mu.Unlock()
	if tc == nil {
		s.flowsLost.Add(1)
		return flow{}, errFlowGone
	}
	host, local := s.cfg.PublicHost, netip.AddrPort{}
	if ta, ok := tc.c.LocalAddr().(*net.TCPAddr); ok {
		local = ta.AddrPort()
		host = hostPort(local, s.cfg.PublicHost)
	}
	return flow{host: host, hop: &hop{transport: transport, dst: src, local: unmapped(local),
		write: func(b []byte, _ netip.AddrPort) error { return tc.write(b) }}}, nil
}

// notifyMessage writes the subscription's next NOTIFY (RFC 6665 §4.2.2, §8.2.3; RFC
// 3261 §12.2.1.1): in its dialog, CSeq and dialog-info version one up, the state
// pending for it, Subscription-State active with the seconds left, or terminated with
// its reason when this NOTIFY ends it (d.mu held).
func (d *dialogEvents) notifyMessage(sub *subscription, f flow) (msg []byte, final bool) {
	now := d.s.now()
	state := "active;expires=" + strconv.Itoa(max(0, int(sub.expires.Sub(now)/time.Second)))
	if sub.final != "" {
		state, final = "terminated;reason="+sub.final, true
	}
	body := dialogInfo(sub.version, sub.entity, sub.domain, sub.pending)
	sub.version++
	sub.cseq++
	branch := "z9hG4bK" + randHex(10)
	contact := "<sip:" + sub.ext + "@" + f.host
	switch f.transport {
	case "TCP":
		contact += ";transport=tcp"
	case "TLS":
		contact += ";transport=tls"
	}
	var m strings.Builder
	m.Grow(640 + len(body))
	m.WriteString("NOTIFY " + sub.target + " SIP/2.0\r\n")
	m.WriteString("Via: SIP/2.0/" + f.transport + " " + f.host + ";branch=" + branch + ";rport\r\n")
	m.WriteString("Max-Forwards: 70\r\n")
	m.WriteString("From: " + sub.to + "\r\n")
	m.WriteString("To: " + sub.from + "\r\n")
	m.WriteString("Call-ID: " + sub.callID + "\r\n")
	m.WriteString("CSeq: " + strconv.Itoa(sub.cseq) + " NOTIFY\r\n")
	m.WriteString("Contact: " + contact + ">\r\n")
	m.WriteString("Event: " + sub.event + "\r\n")
	m.WriteString("Subscription-State: " + state + "\r\n")
	m.WriteString("Content-Type: " + dialogInfoType + "\r\n")
	m.WriteString("User-Agent: Dialtone\r\n")
	m.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	m.WriteString(body)
	return []byte(m.String()), final
}

// dialogInfo is the application/dialog-info+xml document (RFC 4235 §4): always the
// full state of the extension; no dialog element means idle.
func dialogInfo(version int, entity, domain string, dialogs []dialogState) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="` + strconv.Itoa(version) +
		`" state="full" entity="` + entity + `">` + "\n")
	for _, ds := range dialogs {
		b.WriteString(`  <dialog id="` + ds.id + `" direction="` + ds.direction + `">` + "\n")
		b.WriteString("    <state>" + ds.state + "</state>\n")
		if ds.remote != "" {
			b.WriteString("    <remote><identity>sip:" + ds.remote + "@" + domain + "</identity></remote>\n")
		}
		b.WriteString("  </dialog>\n")
	}
	b.WriteString("</dialog-info>\n")
	return b.String()
}

// startSweep starts, once, the loop that ends expired subscriptions (a last NOTIFY,
// Subscription-State: terminated;reason=timeout; RFC 6665 §4.2.2) and forgets calls
// never told to have ended.
func (d *dialogEvents) startSweep() {
	d.sweepOnce.Do(func() {
		go crash.Restart(d.s.log, "sip", "BLF expiry", func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-d.s.done:
					return
				case <-tick.C:
					d.sweep(d.s.now())
				}
			}
		})
	})
}

func (d *dialogEvents) sweep(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, sub := range d.subs {
		if !now.Before(sub.expires) {
			d.release(sub, "timeout")
			d.kick(sub)
		}
	}
	d.dropStaleCalls(now)
}
