package sip

import (
	"context"
	"net/netip"
	"time"
)

// This file is the contract between the call proxy (proxy*.go), the routing plan
// (package dialplan), the tenant's upstream (store, trunk registration) and what
// follows calls (call history, BLF). cmd/dialtone wires the implementations into Config.

// Caller is the authenticated line an INVITE comes from (its credentials, never its
// From header).
type Caller struct {
	Tenant    string
	Username  string // the SIP account (sip_username)
	Extension string // the line's extension; empty for a flex guest line
	UserID    string // the user the line belongs to; empty for a guest line
	GuestMAC  string // the flex phone a guest line belongs to
	MAC       string // the phone the INVITE came from, when known
	Source    netip.AddrPort
}

// RouteKind says where a call goes.
type RouteKind uint8

const (
	// RouteRefuse answers the INVITE with Route.Code and Route.Reason.
	RouteRefuse RouteKind = iota
	// RouteInternal forks to every live binding of Route.AORs (RFC 3261 §16.6).
	RouteInternal
	// RouteUpstream hands the call to the tenant's upstream.
	RouteUpstream
	// RouteEmergency hands the call to the tenant's upstream whatever the limits say.
	RouteEmergency
)

// Route is a Dialplan's answer for one INVITE.
type Route struct {
	Kind   RouteKind
	Code   int    // RouteRefuse: the status code
	Reason string // RouteRefuse: the reason phrase the phone shows

	// RouteInternal: the callee.
	AORs      []string // AORs whose bindings ring: every line of the callee, by SIP username and extension
	UserID    string
	Extension string

	// RouteUpstream and RouteEmergency.
	Number     string // the Request-URI user sent upstream (E.164 or as dialled)
	CallerID   string // P-Asserted-Identity user: the caller's DID or the tenant's main number
	CallerName string // display name, may be empty
}

// Dialplan decides where calls go; cmd/dialtone wires package dialplan's.
type Dialplan interface {
	// Outbound routes an INVITE from a registered line, after its authentication,
	// in the order: emergency numbers, feature codes (answered by the
	// registrar before this), internal numbers, everything else upstream.
	Outbound(ctx context.Context, c Caller, dialled string) (Route, error)
	// Inbound routes an INVITE from the tenant's upstream to one of its DIDs.
	Inbound(ctx context.Context, tenant, number string) (Route, error)
}

// UpstreamTarget is where a tenant's upstream calls go, and how to answer its
// challenges.
type UpstreamTarget struct {
	Host      string // name or address
	Port      int
	Transport string // "UDP", "TCP" or "TLS"
	Username  string // empty for an IP-based upstream
	Password  string // opened; never logged
	Domain    string // the From/To host the upstream expects
}

// Upstreams gives each tenant's upstream as the proxy needs it.
type Upstreams interface {
	// Target is where the tenant's upstream calls go; false when it has none.
	Target(tenant string) (UpstreamTarget, bool)
	// FromUpstream names the tenant whose upstream src is (its addresses, or its
	// registration's flow); false for anyone else.
	FromUpstream(src netip.AddrPort) (tenant string, ok bool)
}

// CallEventKind is a step in a call's life.
type CallEventKind uint8

const (
	CallStarted  CallEventKind = iota + 1 // INVITE accepted and routed
	CallRinging                           // a branch answered 180/183
	CallAnswered                          // a branch answered 2xx
	CallEnded                             // BYE, CANCEL, or a final non-2xx
)

// CallEvent tells a CallObserver where one call stands.
type CallEvent struct {
	Kind   CallEventKind
	At     time.Time
	Tenant string
	CallID string // the caller's Call-ID
	Caller Caller // Caller.Tenant empty for a call from the upstream
	From   string // the caller's number as shown (extension, or the upstream's caller ID)
	To     string // the number dialled (the INVITE's Request-URI user)
	Route  Route
	Phones []string // CallRinging/CallAnswered: MACs (or binding contacts) of the branch
	Code   int      // CallEnded: the final status (200 for a call answered then hung up)
}

// CallObserver is told of every call's steps, in order per call. It must not block:
// the proxy calls it inline.
type CallObserver interface {
	CallEvent(e CallEvent)
}
