package sip

import (
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
)

// BLF: the dialog event package (RFC 4235) over SIP-specific event notification
// (RFC 6665). A phone's busy-lamp key subscribes to "dialog" for a colleague's
// extension; the registrar answers as the notifier, with the extension's calls as the
// proxy tells them (CallEvent), so the state is the extension's wherever its user is
// logged in, not one phone's. Files: dialogevent.go (the state and the CallObserver),
// dialogevent_subscribe.go (SUBSCRIBE), dialogevent_notify.go (NOTIFY, expiry).

// Limits of the dialog event package.
const (
	// DialogMinExpires, DialogMaxExpires and DialogDefaultExpires bound a subscription's
	// duration in seconds: under the minimum is 423 with Min-Expires (RFC 6665
	// §4.2.1.1), over the maximum is cut to it, none given is the default (RFC 4235 §3.2).
	DialogMinExpires     = 60
	DialogMaxExpires     = 3600
	DialogDefaultExpires = 3600
	// MaxDialogSubsPerTenant and MaxDialogSubsPerSource bound the subscriptions held at
	// once for one tenant and from one source (an IPv4 address or an IPv6 /64: an office
	// behind one NAT, every phone with its BLF keys). Over either, 503 with Retry-After.
	MaxDialogSubsPerTenant = 10000
	MaxDialogSubsPerSource = 1000
	// MaxDialogSubs bounds the subscriptions held at once over all tenants.
	MaxDialogSubs = 50000
	// maxNotifySenders bounds the goroutines sending NOTIFYs at once.
	maxNotifySenders = 1024
	// maxDialogsPerExtension bounds the calls one extension's state lists; maxDialogCalls
	// the calls followed for BLF at once over all tenants. Calls beyond are not shown.
	maxDialogsPerExtension = 16
	maxDialogCalls         = 50000
	// dialogStaleAfter: a call the proxy never said had ended is forgotten after this.
	dialogStaleAfter = 12 * time.Hour
)

// RFC 4235 §3.7.1 dialog states, in the order a dialog goes through them.
const (
	dialogTrying     = "trying"
	dialogEarly      = "early"
	dialogConfirmed  = "confirmed"
	dialogTerminated = "terminated"
)

var dialogRank = map[string]int{dialogTrying: 1, dialogEarly: 2, dialogConfirmed: 3, dialogTerminated: 4}

// extKey names a watched resource: an extension of a tenant.
type extKey struct{ tenant, ext string }

// dialogState is one call of an extension as its dialog-info shows it.
type dialogState struct {
	id        string // stable per call and side, never the Call-ID itself
	direction string // "initiator" (the extension called) or "recipient"
	state     string
	remote    string // the other party's number, when it is one
	since     time.Time
}

// subscription is one accepted SUBSCRIBE dialog for Event: dialog.
type subscription struct {
	key      string // Call-ID, the subscriber's tag and the Event id
	tenant   string
	ext      string
	entity   string // sip:{ext}@{domain}
	domain   string
	username string // the SIP account that subscribed
	source   netip.Addr

	// The dialog (RFC 3261 §12.1.1, RFC 6665 §4.1.2): the NOTIFY's From is the
	// SUBSCRIBE's To with our tag, its To the SUBSCRIBE's From.
	callID, from, to, target, event string
	transport                       string // "UDP", "TCP" or "TLS"
	src                             netip.AddrPort
	local                           netip.AddrPort
	write                           func([]byte, netip.AddrPort) error // the UDP socket it came in on

	expires time.Time
	cseq    int
	version int // dialog-info version of the next NOTIFY (RFC 4235 §4.1: from 0, +1 each)

	pending []dialogState // the state the next NOTIFY carries
	dirty   bool          // a NOTIFY is due
	sending bool          // a goroutine is sending this subscription's NOTIFYs
	queued  bool          // waiting for a sender (dialogEvents.waiting)
	final   string        // the reason of the terminating NOTIFY, when one is due
	held    bool          // counted in the tables
}

// dialogEvents is the notifier's state: subscriptions by dialog and by watched
// extension, counts per tenant and source, and the calls of each extension.
type dialogEvents struct {
	s  *Server
	mu sync.Mutex

	subs      map[string]*subscription
	watchers  map[extKey]map[*subscription]struct{}
	perTenant map[string]int
	perSource map[netip.Addr]int

	calls    map[extKey]map[string]*dialogState // by Call-ID
	numCalls int

	maxPerTenant, maxPerSource int // MaxDialogSubsPerTenant, MaxDialogSubsPerSource

	maxSenders int
	senders    int             // goroutines sending NOTIFYs (at most maxSenders)
	waiting    []*subscription // subscriptions with a NOTIFY due, waiting for a sender

	sweepOnce sync.Once
}

func newDialogEvents(s *Server) *dialogEvents {
	return &dialogEvents{s: s, subs: make(map[string]*subscription),
		watchers: make(map[extKey]map[*subscription]struct{}), perTenant: make(map[string]int),
		perSource: make(map[netip.Addr]int), calls: make(map[extKey]map[string]*dialogState),
		maxPerTenant: MaxDialogSubsPerTenant, maxPerSource: MaxDialogSubsPerSource, maxSenders: maxNotifySenders}
}

// callTee tells two observers of each call (the registrar's BLF and cmd/dialtone's).
type callTee struct{ a, b CallObserver }

func (t callTee) CallEvent(e CallEvent) {
	t.a.CallEvent(e)
	t.b.CallEvent(e)
}

// withBLF makes the observer the proxy tells: the BLF notifier, and next if set.
func withBLF(blf *dialogEvents, next CallObserver) CallObserver {
	if next == nil {
		return blf
	}
	return callTee{blf, next}
}

// DialogSubscriptions is how many dialog subscriptions are held now.
func (s *Server) DialogSubscriptions() int {
	s.blf.mu.Lock()
	defer s.blf.mu.Unlock()
	return len(s.blf.subs)
}

// CallEvent follows a call on both sides that are extensions of the tenant: the
// caller's (Caller.Extension, direction initiator) and, for an internal call, the
// callee's (Route.Extension, recipient). CallStarted shows the caller "trying"; a
// branch ringing shows both "early", an answer "confirmed", the end "terminated" (sent
// once, then the call is forgotten). A state never goes back. It does no I/O: NOTIFYs
// are sent by each subscription's own goroutine.
func (d *dialogEvents) CallEvent(e CallEvent) {
	defer crash.Recover(d.s.log, "sip", "BLF call event")
	if e.Tenant == "" || e.CallID == "" {
		return
	}
	var state string
	switch e.Kind {
	case CallStarted:
		state = dialogTrying
	case CallRinging:
		state = dialogEarly
	case CallAnswered:
		state = dialogConfirmed
	case CallEnded:
		state = dialogTerminated
	default:
		return
	}
	now := e.At
	if now.IsZero() {
		now = d.s.now()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e.Caller.Extension != "" && (e.Caller.Tenant == "" || e.Caller.Tenant == e.Tenant) {
		remote := e.To
		if remote == "" {
			remote = e.Route.Extension
		}
		d.step(extKey{e.Tenant, e.Caller.Extension}, e.CallID, "initiator", state, remote, now)
	}
	if e.Route.Kind == RouteInternal && e.Route.Extension != "" && state != dialogTrying {
		d.step(extKey{e.Tenant, e.Route.Extension}, e.CallID, "recipient", state, e.From, now)
	}
}

// step moves one side of a call to state and tells the extension's watchers (d.mu held).
func (d *dialogEvents) step(k extKey, callID, direction, state, remote string, now time.Time) {
	calls := d.calls[k]
	ds := calls[callID]
	if ds == nil {
		if state == dialogTerminated || len(calls) >= maxDialogsPerExtension || d.numCalls >= maxDialogCalls {
			return
		}
		if calls == nil {
			calls = make(map[string]*dialogState)
			d.calls[k] = calls
		}
		ds = &dialogState{id: dialogID(callID, direction), direction: direction, remote: shownNumber(remote), since: now}
		calls[callID] = ds
		d.numCalls++
	}
	if dialogRank[state] <= dialogRank[ds.state] {
		return // a late 180 after the answer: the state does not go back
	}
	ds.state = state
	if watchers := d.watchers[k]; len(watchers) > 0 {
		snap := d.snapshot(k)
		for sub := range watchers {
			sub.pending = snap
			d.kick(sub)
		}
	}
	if state == dialogTerminated {
		d.forget(k, callID)
	}
}

func (d *dialogEvents) forget(k extKey, callID string) {
	delete(d.calls[k], callID)
	d.numCalls--
	if len(d.calls[k]) == 0 {
		delete(d.calls, k)
	}
}

// snapshot copies an extension's calls, oldest first (d.mu held).
func (d *dialogEvents) snapshot(k extKey) []dialogState {
	out := make([]dialogState, 0, len(d.calls[k]))
	for _, ds := range d.calls[k] {
		out = append(out, *ds)
	}
	for i := 1; i < len(out); i++ { // insertion sort: a handful of calls
		for j := i; j > 0 && (out[j].since.Before(out[j-1].since) || out[j].since.Equal(out[j-1].since) && out[j].id < out[j-1].id); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// dropStaleCalls forgets calls older than dialogStaleAfter (d.mu held).
func (d *dialogEvents) dropStaleCalls(now time.Time) {
	for k, calls := range d.calls {
		for id, ds := range calls {
			if now.Sub(ds.since) > dialogStaleAfter {
				d.forget(k, id)
			}
		}
	}
}

// dialogID names one side of a call in dialog-info without giving its Call-ID away.
func dialogID(callID, direction string) string {
	return strconv.FormatUint(fnv64a(callID, direction), 36)
}

// shownNumber keeps a number that can go into a SIP URI as it is (digits, + and *);
// anything else is not shown.
func shownNumber(n string) string {
	if n == "" || len(n) > 32 {
		return ""
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= '0' && c <= '9' || c == '+' || c == '*') {
			return ""
		}
	}
	return n
}
