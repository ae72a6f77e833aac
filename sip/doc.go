// Package sip is Dialtone's registrar and call proxy: it owns the SIP listeners (UDP, TCP and TLS), the
// server side of digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), the binding
// table (RFC 3261 §10.3) kept in memory and persisted with a TTL through the store, the
// check-sync NOTIFY that makes a phone re-provision, and the flex-login feature codes
// (*55*{ext}*{pin}, *56) dialled from phones.
//
// *56 logs a flex phone out only when dialled from the phone's guest line or from a line
// of the user logged in there (the authenticated account of the INVITE, never the MAC
// a User-Agent or +sip.instance names); other accounts get 403 with that reason. When a
// session ends (logout, auto-logout, the next user's login) the bindings of the user's
// lines registered from that phone (by the MAC its User-Agent or +sip.instance gave)
// are dropped as its check-sync NOTIFY is sent (to them too: they may be the phone's only
// registration), so it stops ringing for them even if it never re-provisions. The same
// user logging in there again (a renewed session) keeps them.
//
// It does not own the flex login rules themselves (which user may log in where, PIN
// locks, auto-logout): those sit behind the FlexDesk interface that cmd/dialtone wires,
// nor where a call goes (the Dialplan, package dialplan) or who follows calls (the
// CallObserver): calls.go is that contract. It registers to tenants' upstreams
// (trunk.go) and tells their requests apart.
//
// # Calls
//
// With a Config.Dialplan the server is a stateful proxy (RFC 3261 §16; proxy*.go).
// Every proxied request has a sipgo server transaction (sip.NewServerTx) and each copy
// it forwards a client transaction (sip.NewClientTx): their state machines and timers
// (A-M, RFC 3261 §17 and RFC 6026) run over our own sockets through hop, a
// sip.Connection that writes to one of our UDP sockets or to a phone's TCP/TLS flow.
// Completed transactions are kept 5 s (txWait, Kamailio's tm wait timer), not 64×T1,
// and a 2xx retransmitted after its branch ended is forwarded statelessly by the Vias.
// Responses reach their client transaction by Via branch and method (deliverResponse);
// retransmitted requests, ACKs of non-2xx answers and CANCELs reach the server
// transaction by the top Via's branch and sent-by (RFC 3261 §17.2.3). The tables are
// bounded (65,536 server and 65,536 client transactions, Config.MaxCalls calls): over
// them an INVITE is answered 503.
//
// An INVITE without credentials (and not from an upstream) is answered its 407 at once
// and statelessly, as a REGISTER's 401 (and as Kamailio's sl module does): no
// transaction and no 100 for a final answer that goes now, the same nonce to its
// retransmissions (retransmit.go), its ACK absorbed. Any other INVITE that is not a
// flex code gets 100 Trying at once (§16.2), then Max-Forwards
// (483 at 0, §16.3 step 3) and loop detection (482, §16.3 step 4: our branch carries a
// hash of the request as received, RFC 3261 §16.6 step 8, and a request that comes back
// with it unchanged is a loop; changed, a spiral) are checked. From the tenant's
// upstream (Upstreams.FromUpstream) it goes to Dialplan.Inbound without a challenge;
// from anyone else it is authenticated with 407 by the line's credentials, as a REGISTER
// is (§22.3). The From must name the caller's own line (its SIP user name or extension,
// or anonymous, RFC 3323): otherwise 403 "From is not your line", refused rather than
// rewritten so the phone shows why. Then Dialplan.Outbound routes it (a guest line only
// to an emergency number): RouteRefuse is answered; RouteInternal forks in parallel to
// every live binding of Route.AORs but the caller's own (§16.6); RouteUpstream and
// RouteEmergency go to Upstreams.Target with Route.Number as the Request-URI user and
// P-Asserted-Identity from Route.CallerID (RFC 3325 §9.1), an upstream's 401/407
// answered once with its credentials (same CSeq, new branch, as Kamailio's uac_auth).
// No upstream: 503 with the reason, an emergency call logged at warn.
//
// Each forwarded copy has Max-Forwards one less, our Via with rport (RFC 3581) on top,
// the phone's Route, Proxy-Authorization, P-Asserted-Identity and P-Preferred-Identity
// removed, and our Record-Route with lr (§16.6 step 4), twice when the caller's and the
// callee's transports differ (RFC 5658). A UDP phone is sent to the address its
// REGISTER came from unless its Contact names that same address (then the Contact's
// port): a Contact naming another address is private, behind NAT (RFC 5626 §5.3); a
// TCP or TLS phone is reached over its own connection only. Responses follow §16.7: 1xx
// but 100 are forwarded; the first 2xx is forwarded and the other branches get CANCEL
// (step 10; a branch with no provisional answer yet is cancelled when one comes, §9.1);
// every later 2xx is forwarded too (RFC 6026); a 6xx cancels the rest; when every branch
// ended without a 2xx the best answer goes back (a 6xx, else the lowest class, a timeout
// and a busy branch ranked last, so 486 only when every phone was busy; 503 becomes
// 500, step 6). No binding: 480. Timer C (3 min 5 s) cancels branches that keep ringing.
// A branch's response is forwarded as parsed, our Via removed in place, not copied
// (forwardable): the copy was 4% of the server's CPU per call (bench/calls.sh, 2026-12).
//
// Our Record-Route carries a route token (proxy_route.go): the call's two ends as flows,
// HMAC-sealed under a per-process key, with the caller's From tag (ftag). The keyed
// HMAC states are pooled (proxy_mac.go), not built for each seal: a call's seals took
// 4.3 µs and 2.1 KB instead of 8.5 µs and 7.4 KB (BenchmarkSeals). In bench/calls.sh
// the server's CPU a call was 298–361 µs with the pool (median 346 of five runs) and
// 313–399 µs without (median 362 of six; 2026-12, quiet machine, runs in alternation):
// the bench's spread is wider than the gain, which the benchmark measures. Requests
// within the dialog (ACK for 2xx, BYE, re-INVITE, UPDATE, PRACK, INFO, MESSAGE, REFER,
// NOTIFY) are loose-routed (§16.4): our Route entries are removed and the request goes
// to the end that did not send it (the ftag tells the direction), statefully but for
// the ACK (§16.11), our realm's credentials removed. A Route naming us whose token does
// not open is refused 403: no Route makes us an open relay. A dialog request without
// our Route gets 481 (404 without a To tag). A CANCEL is answered 200, its INVITE 487
// by the server transaction, and every pending branch cancelled (§16.10); the ACK of a
// non-2xx answer is absorbed by the transaction (hop by hop).
//
// Limits: calls in progress per tenant (max_calls, 503) and per user (max_calls_per_user:
// 503 for the caller, 486 when the callee is over), emergency calls exempt; new INVITEs
// per source (Config.InvitesPerSource a second, internal/ratelimit.Strikes: over it 503
// for ten seconds; the upstream's addresses exempt). A call whose BYE never passed is
// forgotten after 12 hours. The CallObserver is told CallStarted, CallRinging (first
// 180/183), CallAnswered (first 2xx) and CallEnded (the final status, or 200 at the
// BYE), inline.
//
// # Transports
//
// sipgo's sip package parses every message (sip.Parser) and gives the message model;
// the sockets are read by this package itself. Over UDP a REGISTER is answered
// statelessly, the way Kamailio's sl module does: no server transaction, no goroutine
// and no connection-pool entry per source address, so a flood from many source ports
// costs nothing that outlives the datagram. Retransmissions of a REGISTER are answered
// as their originals were (retransmit.go); retransmitted INVITEs get the cached final
// answer (a small bounded cache by Via branch). An answer copies the request's Via,
// From, To, Call-ID and CSeq lines as received (reply.go); a request whose top Via does
// not read strictly is dropped. Every message goes through sipgo's parser, a first
// REGISTER without credentials too: a path that challenged those straight from the
// datagram was measured against a build without it (bench/sip.sh, SIPp register-auth,
// 2026-12) and removed: server CPU per registration 47–55 µs with it, 46–53 µs
// without, although the challenge alone took a third of the time in BenchmarkRegister.
//
// SIP over TLS (RFC 3261 §26.2; RFC 5630 §3, transport=tls) is SIP over TCP inside a TLS
// connection (ServeTLS, tls.go): the handshake runs in the connection's goroutine within
// ten seconds, then the connection is read like a TCP one, under the same caps. A binding
// records the transport it came over ("UDP", "TCP" or "TLS") and its source; open TCP
// and TLS connections are kept by transport and source, as flows (RFC 5626 §3.1).
//
// The requests we send of our own (the check-sync NOTIFY, a BLF NOTIFY, the
// plug-and-play NOTIFY, the REGISTER to an upstream) each run a sipgo non-INVITE client
// transaction (sip.NewClientTx, RFC 3261 §17.1.2) through a hop, as the proxy's
// branches do (clienttx.go): over UDP retransmitted from T1 doubling to T2 (every T2
// once a provisional answer came), given up at Timer F (32 s); over TCP and TLS sent
// once; answers matched by Via branch and CSeq method (§17.1.3); the transaction ends
// at its final answer. Plug-and-play bounds its sends and time more tightly (below).
// Requests to a phone leave from the listening socket, so they pass the NAT pinhole
// the phone's registration opened. To a binding made over TCP or TLS they leave over
// that binding's own connection (RFC 5626 §5.3: flow reuse); when it has closed the
// request is not sent at all — a phone that registered over TLS never gets one in
// clear over UDP — and the loss is logged and counted (FlowsLost,
// dialtone_sip_flow_lost_total) until the phone registers again.
//
// # Upstreams
//
// Each tenant may have an upstream (store.Upstream: a provider's trunk or a PBX) that
// outside and emergency calls go to. trunk.go keeps them from the store (following its
// change events: a saved upstream restarts its registration, a removed one stops it)
// and *Server implements Upstreams: Target is where the tenant's calls go (the password
// opened), FromUpstream tells whose upstream a request's source is — an ip-mode
// upstream's trusted prefixes (or the addresses its host resolved to), a registered
// upstream's registrar address (over TCP and TLS its registration's connection) while
// the binding the upstream accepted lasts: a refused registration claims nothing. A
// source two tenants claim (both registered to one provider) is nobody's by source
// alone; UpstreamFor tells them apart by the Request-URI user (the Contact user each
// registered). Addresses trusted only because a host name resolved to them (whoever
// runs that DNS chose them; the store cannot check them against other tenants') yield
// to a configured trust or a registration claiming the same source.
//
// In register mode (trunkreg.go) the server registers to the upstream (RFC 3261
// §10.2): over UDP from the listening socket, so the upstream's calls come back to the
// port phones use and through the NAT pinhole the registration opened; over TCP or TLS
// over a connection it opens and reads like a phone's (TLS verified against the
// system's roots, or Config.UpstreamTLS); when that connection closes it connects and
// registers again after Config.UpstreamRetry, not at the next refresh. The host is resolved by A/AAAA (no SRV or
// NAPTR), IPv4 first, at every attempt. One Call-ID and From tag for the registration's
// life and CSeq rising; a 401 or 407 is answered once with the upstream's username and
// password (a second challenge only when it says stale), a 423 by asking its
// Min-Expires. When an answer's Via says the upstream saw us elsewhere (received and
// rport, RFC 3581 §4: Dialtone is behind NAT), the Contact names that address from the
// next REGISTER on (registering again at once if it was granted). The time granted (our Contact's expires, else Expires) is refreshed at
// half its length; a failure is retried after Config.UpstreamRetry (default 5 s),
// doubling up to 5 minutes. A changed or removed upstream is un-registered (Expires: 0,
// within 3 s) before its successor registers; a shutdown leaves the registration to
// run out (a restart registers the same Contact again). UpstreamState gives the state for the
// API: registering, registered (with when it expires), failed (with the reason and the
// next attempt), stopped.
//
// # Remote actions
//
// Resync and Reboot send a phone its make's NOTIFY (NotifyEvent: check-sync with
// reboot=false or reboot=true; Cisco's resync and reboot events). StartAction queues many
// phones of a tenant at once (actions.go): one queue per tenant, told at the action's rate
// (the tenant's action_rate, phones per second), at most MaxActionQueue phones waiting
// and 512 NOTIFYs awaiting an answer. Each phone's state is kept with the action (the
// last 32 per tenant, in memory): queued, notified (2xx), no_binding, failed (an error,
// a refusal or Timer F), fetched (PhoneFetched: the provisioner served it a file after
// the NOTIFY). The store changes that re-provision phones by themselves (a user's new
// line, a tenant setting) go through the debounced check-sync queue (changes.go), not
// through this pace.
//
// # Plug-and-play
//
// A phone with no provisioning URL subscribes to the ua-profile event (the SIP
// configuration framework's profile delivery, as Snom, Yealink, Fanvil, Gigaset and
// Grandstream implement it) at the multicast group 224.0.1.75:5060 (JoinPnP joins it on
// a wildcard-bound UDP socket, per interface) or at the SIP port itself. pnp.go answers
// a SUBSCRIBE with Event: ua-profile over UDP at once with 200 and Expires: 0 (RFC 6665
// §4.2.1.1), then sends one NOTIFY in the dialog (RFC 6665 §4.1.2, §8.2.3): the
// SUBSCRIBE's Call-ID, its From as To, its To with our tag as From, its Event echoed,
// Subscription-State: terminated;reason=timeout, Content-Type: application/url and the
// provisioning URL as the body. The phone is told by the MAC in the From user
// ("MAC%3a…", "MAC=…" or the bare 12 hex digits; else the Request-URI user): the Event
// header's vendor and model are not trusted. The URL comes from Config.PnP (PnPDesk;
// cmd/dialtone wires package provision: the tenant by pnp_subnets, the make by OUI);
// when it has none (no tenant answers that address) the SUBSCRIBE is left unanswered,
// so another server on the segment can answer it. Another event package is refused
// with 489 Bad Event (RFC 6665 §8.2.1), a SUBSCRIBE with no MAC with 400.
//
// The NOTIFY goes to the SUBSCRIBE's source address and port, never to its Contact
// (only the Request-URI names the Contact): as a response goes where the request came
// from (RFC 3581 §4), so does the one request a SUBSCRIBE earns, and a forged SUBSCRIBE
// cannot aim it at a third party. A source (an IPv6 client by its /64) is answered four
// SUBSCRIBEs a minute, then none for a minute (internal/ratelimit, without even the
// 200); at most 64 NOTIFY transactions run at once (over that, 503); each NOTIFY is
// sent at most four times (Timer E from T1) and given up after 8 s, so what a forged
// datagram can make us send is bounded.
//
// # BLF
//
// A SUBSCRIBE with Event: dialog (RFC 4235, RFC 6665) watches an extension of the
// subscribing line's tenant (dialogevent*.go). The line is authenticated like a REGISTER
// (401), in the tenant of its From domain; a Request-URI in another tenant is 403 after
// that (no wrong password counted), an extension the tenant lacks 404, a subscription
// in a dialog we do not hold 481.
// Expires is granted between DialogMinExpires (60 s; under it 423 with Min-Expires) and
// DialogMaxExpires (3600 s, the default). The 200 is followed at once by a NOTIFY with
// the full dialog-info (version 0, then one up per NOTIFY), and so is every refresh;
// Expires: 0 and expiry end the subscription with a last NOTIFY,
// Subscription-State: terminated;reason=timeout. The state is the extension's, from the
// CallEvents the proxy tells Config.Calls (New puts the notifier in front of the
// configured observer): the caller's side trying, early, confirmed, terminated; the
// callee's side of an internal call early, confirmed, terminated. So it follows the user
// to a flex phone. Each subscription has one NOTIFY in flight at a time, sent over the
// subscriber's flow (the UDP socket and address its SUBSCRIBE came from, or its
// TCP or TLS connection only), with changes coalesced into the next; a NOTIFY that fails
// or times out (Timer F) ends the subscription. Subscriptions are capped per tenant
// (MaxDialogSubsPerTenant), per source (MaxDialogSubsPerSource; a refresh from another
// source moves it there, within that source's cap) and in all (MaxDialogSubs), 503 over
// any; at most 1,024 goroutines send NOTIFYs at once, the
// other subscriptions with one due wait their turn in order. Calls followed for BLF
// are capped per extension (16) and in all (50,000). presence, message-summary and
// other packages are 489 with Allow-Events.
//
// # Digest algorithms
//
// A challenge carries one WWW-Authenticate (or Proxy-Authenticate) per algorithm, in
// order of preference (RFC 8760 §2.4, RFC 7616 §3.7); a client uses the first it
// supports, and many phone firmwares read only the first. What is offered is the
// tenant's sip_digest (store.SIPDigests; default store.DefaultSIPDigest, MD5 first, as
// Kamailio, Asterisk and FreeSWITCH send), or the sip_digest of the model profile of
// the model the request's User-Agent names (provision.ParseUserAgent), when the tenant
// set one. Credentials in an algorithm not offered to that client are challenged again.
// No client is treated differently by User-Agent otherwise.
//
// # Security
//
// Nonces are stateless (internal/digest, shared with provisioning): a timestamp, a
// sequence number and an HMAC under a per-process key over the realm and the client's
// address, so a nonce answers only from where it was sent. Each nc is accepted once per nonce; the replay window is a fixed-size ring,
// so its memory is bounded whatever the load. An unknown user and a wrong password get
// the same answer. Ten wrong passwords a minute from one source (internal/ratelimit:
// an IPv6 client by its /64) block it for ten minutes (logged once per block); only a
// digest over a nonce we sent to that source counts, so forged datagrams (no qop, a
// made-up, stale or foreign nonce) are challenged and cannot block an office's NAT
// address. Secrets never reach a log line. One source holds at
// most Config.TCPConnsPerSource SIP-over-TCP or TLS connections (default 32, the phones
// behind an office NAT); one over it is closed before a byte is read
// (internal/ratelimit.Listener).
//
// A panic while answering one message (UDP datagram or TCP message), in an INVITE's
// goroutine or a check-sync NOTIFY ends that piece of work only (internal/crash): the
// reader reads the next datagram, the TCP connection its next message. The bindings
// flush and the check-sync queue are started again after a panic.
//
// For metrics, Config.OnRegister is told each REGISTER's answered status code and how
// long it took (the fast-path challenges included), and RegistrationCounts reads the live
// AORs and bindings per tenant from the table.
package sip
