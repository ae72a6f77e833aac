package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// Retry bounds of a failed upstream registration: the wait doubles from
// Config.UpstreamRetry (default 5 s) up to maxUpstreamRetry.
const (
	defaultUpstreamRetry = 5 * time.Second
	maxUpstreamRetry     = 5 * time.Minute
	unregisterTimeout    = 3 * time.Second
)

// trunkReg registers Dialtone to one tenant's upstream and keeps the registration
// fresh (RFC 3261 §10.2): one Call-ID and From tag for its life, CSeq rising, refreshed
// at half the time granted, retried with a bounded backoff after a failure.
type trunkReg struct {
	s      *Server
	up     store.Upstream
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	lost   chan struct{} // the registration's connection closed

	callID, fromTag string
	cseq            int // only touched by the registration's goroutine

	mu    sync.Mutex
	state TrunkState
	dst   netip.AddrPort // the registrar, resolved
	// bound is when the binding the upstream last accepted runs out: until then its
	// requests from dst are the tenant's (a registration it refused claims nothing).
	bound time.Time
	// public is where the upstream sees local (its answers' Via received and rport,
	// RFC 3581 §4): behind NAT, the Contact names it.
	public, local netip.AddrPort
	conn          *tcpConn // TCP and TLS: the registration's flow
	key           flowKey
}

func newTrunkReg(s *Server, u store.Upstream) *trunkReg {
	ctx, cancel := context.WithCancel(context.Background())
	return &trunkReg{s: s, up: u, ctx: ctx, cancel: cancel, done: make(chan struct{}), lost: make(chan struct{}, 1),
		callID: randHex(12) + "@dialtone", fromTag: randHex(6),
		state: TrunkState{State: TrunkRegistering, Transport: strings.ToUpper(u.Transport)}}
}

func (r *trunkReg) snapshot() TrunkState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

// from says whether src is this registration's upstream: its registrar's address, or
// over TCP and TLS its connection's, while the binding the upstream accepted lasts. A
// registration the upstream never accepted (a wrong password, or another tenant's
// account name) claims nothing, so it cannot take or spoil another tenant's calls from
// a shared provider.
func (r *trunkReg) from(src netip.AddrPort) bool {
	now := r.s.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dst.IsValid() || !now.Before(r.bound) {
		return false
	}
	if r.up.Transport == "udp" {
		return src.Addr() == r.dst.Addr()
	}
	return src == r.dst
}

// stop ends the registration; it un-registers (bounded by unregisterTimeout) and
// closes its connection before done closes.
func (r *trunkReg) stop() { r.cancel() }

// run registers until stopped, once the registration it replaces has un-registered
// (its Expires: 0 would otherwise remove the new binding of the same contact).
func (r *trunkReg) run(prev *trunkReg) {
	if prev != nil {
		select {
		case <-prev.done:
		case <-r.ctx.Done():
			return
		}
	}
	if r.up.Transport == "udp" && !r.waitSocket() {
		return
	}
	retry := r.s.cfg.UpstreamRetry
	if retry <= 0 {
		retry = defaultUpstreamRetry
	}
	failures := 0
	expires := int(r.up.RegisterExpiry() / time.Second)
	for {
		start := r.s.now()
		granted, err := r.register(r.ctx, expires)
		var wait time.Duration
		r.mu.Lock()
		r.state.LastAttempt = start
		if err != nil {
			if r.ctx.Err() != nil {
				r.mu.Unlock()
				break
			}
			failures++
			wait = min(retry<<min(failures-1, 16), maxUpstreamRetry)
			r.state.State, r.state.Reason, r.state.Expires = TrunkFailed, err.Error(), time.Time{}
		} else {
			failures = 0
			wait = max(granted/2, time.Second) // refresh at half the time (RFC 3261 §10.2.4 leaves when to the UA)
			r.state.State, r.state.Reason, r.state.Expires = TrunkRegistered, "", start.Add(granted)
			r.bound = start.Add(granted)
		}
		r.state.NextAttempt = r.s.now().Add(wait)
		r.mu.Unlock()
		if err != nil {
			r.s.log.Warn("upstream registration failed", "tenant", r.up.Tenant, "host", r.up.Host, "err", err, "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
			continue
		case <-r.lost:
			// Over TCP or TLS the connection is the way the upstream's calls come in:
			// when it closes, connect and register again without waiting for the refresh.
			t.Stop()
			r.mu.Lock()
			r.state.State, r.state.Reason = TrunkFailed, "the upstream's connection closed"
			r.state.NextAttempt = r.s.now().Add(retry)
			r.mu.Unlock()
			if r.pause(retry) {
				continue
			}
		case <-r.ctx.Done():
			t.Stop()
		}
		break
	}
	r.unregister()
}

// pause waits d; false when stopped first.
func (r *trunkReg) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// waitSocket waits until the server listens on UDP (it is built before it serves);
// false when stopped first.
func (r *trunkReg) waitSocket() bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		r.s.mu.Lock()
		n := len(r.s.udp)
		r.s.mu.Unlock()
		if n > 0 {
			return true
		}
		select {
		case <-tick.C:
		case <-r.ctx.Done():
			return false
		}
	}
}

// unregister removes the binding at the upstream (Expires: 0) when registered, then
// closes the registration's connection.
func (r *trunkReg) unregister() {
	r.mu.Lock()
	registered := r.state.State == TrunkRegistered
	r.state = TrunkState{State: TrunkStopped, Transport: r.state.Transport, LastAttempt: r.state.LastAttempt}
	r.mu.Unlock()
	if registered {
		ctx, cancel := context.WithTimeout(context.Background(), unregisterTimeout)
		if _, err := r.register(ctx, 0); err != nil {
			r.s.log.Info("upstream un-registration not answered", "tenant", r.up.Tenant, "err", err)
		}
		cancel()
	}
	r.mu.Lock()
	c := r.conn
	r.conn = nil
	r.mu.Unlock()
	if c != nil {
		r.s.dropConn(c, r.key)
	}
}

// register runs one REGISTER (expires 0: un-register), answering one digest challenge
// (another only when the upstream says the nonce was stale, RFC 7616 §3.3) and one 423
// (RFC 3261 §10.2.8); it returns the time granted.
func (r *trunkReg) register(ctx context.Context, expires int) (time.Duration, error) {
	password, err := r.s.cfg.Store.OpenSecret(r.up.Password)
	if err != nil {
		return 0, errors.New("the upstream password does not open (key file changed?)")
	}
	h, err := r.flow(ctx)
	if err != nil {
		return 0, err
	}
	local := h.local
	auth := ""
	answered := 0
	for range 6 {
		r.cseq++
		branch := "z9hG4bK" + randHex(10)
		contact := r.contactAddr(local)
		msg := r.build(local, contact, branch, expires, auth)
		res, err := r.s.request(ctx, msg, h, txBound{})
		switch {
		case errors.Is(err, errNoAnswer):
			return 0, errors.New("the upstream did not answer (RFC 3261 Timer F)")
		case errors.Is(err, errClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			return 0, err
		case err != nil:
			return 0, fmt.Errorf("sending to the upstream: %w", err)
		}
		moved := r.learn(res, local, contact)
		switch code := res.StatusCode; {
		case code >= 200 && code < 300:
			if expires == 0 {
				return 0, nil
			}
			if moved {
				// Registered an address the upstream cannot reach (we are behind NAT):
				// register again naming the one it saw, answering a fresh challenge.
				auth, answered = "", 0
				continue
			}
			return r.granted(res, contact, expires)
		case code == 401 || code == 407:
			h, stale, err := r.answer(res, password, expires)
			if err != nil {
				return 0, err
			}
			if answered > 0 && !stale {
				return 0, fmt.Errorf("the upstream refused the credentials (%d %s)", code, reasonPhrase(res.Reason))
			}
			auth, answered = h, answered+1
		case code == 423 && expires > 0:
			h := res.GetHeader("Min-Expires")
			n := 0
			if h != nil {
				n, _ = strconv.Atoi(strings.TrimSpace(h.Value()))
			}
			if n <= expires || n > store.MaxUpstreamExpiry {
				return 0, fmt.Errorf("the upstream answered 423 with Min-Expires %q", hdrValue(h))
			}
			expires = n
		default:
			return 0, fmt.Errorf("the upstream answered %d %s", code, reasonPhrase(res.Reason))
		}
	}
	return 0, errors.New("the upstream kept challenging")
}

// maxReasonPhrase bounds the part of an upstream's reason phrase kept in the
// registration's state and the log.
const maxReasonPhrase = 128

// reasonPhrase is an upstream's reason phrase (RFC 3261 §25.1: text, which the upstream
// chooses) as the state and the log keep it: printable, at most maxReasonPhrase bytes.
func reasonPhrase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= maxReasonPhrase {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hdrValue(h sip.Header) string {
	if h == nil {
		return ""
	}
	return h.Value()
}

// answer builds the Authorization (or Proxy-Authorization) for the upstream's
// challenge (RFC 3261 §22.2, RFC 8760: the first challenge whose algorithm we know).
func (r *trunkReg) answer(res *sip.Response, password string, expires int) (string, bool, error) {
	hname, cred, stale, ok := uacCredentials(res, "REGISTER", r.requestURI(), r.up.Username, password)
	if ok {
		return hname + ": " + cred, stale, nil
	}
	return "", false, fmt.Errorf("the upstream's %d carries no challenge we can answer", res.StatusCode)
}

// contactAddr is the address our Contact names: where the upstream saw local, or local.
func (r *trunkReg) contactAddr(local netip.AddrPort) netip.AddrPort {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.public.IsValid() && r.local == local {
		return r.public
	}
	return local
}

// learn reads where the upstream saw us from its answer's Via (received, rport) and
// says whether that differs from the address our Contact named.
func (r *trunkReg) learn(res *sip.Response, local, contact netip.AddrPort) bool {
	via := res.Via()
	if via == nil {
		return false
	}
	addr, port := local.Addr(), local.Port()
	if v, ok := via.Params.Get("received"); ok {
		if a, err := netip.ParseAddr(v); err == nil && a.Zone() == "" && !a.IsUnspecified() && !a.IsMulticast() {
			addr = a.Unmap()
		}
	}
	if v, ok := via.Params.Get("rport"); ok {
		if p, err := strconv.Atoi(v); err == nil && p > 0 && p < 65536 {
			port = uint16(p)
		}
	}
	seen := netip.AddrPortFrom(addr, port)
	r.mu.Lock()
	r.public, r.local = seen, local
	r.mu.Unlock()
	return seen != contact
}

// granted reads the time the upstream granted our contact: its Contact's expires, else
// the Expires header, else what we asked (RFC 3261 §10.2.4).
func (r *trunkReg) granted(res *sip.Response, contact netip.AddrPort, asked int) (time.Duration, error) {
	n := -1
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.User != r.up.Username || c.Address.Port != int(contact.Port()) {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	if n < 0 {
		if h := res.GetHeader("Expires"); h != nil {
			if v, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
				n = v
			}
		}
	}
	if n < 0 {
		n = asked
	}
	if n == 0 {
		return 0, errors.New("the upstream granted the registration no time")
	}
	return time.Duration(min(n, store.MaxUpstreamExpiry)) * time.Second, nil
}

func (r *trunkReg) requestURI() string { return "sip:" + r.up.SIPDomain() }

// build writes one REGISTER (RFC 3261 §10.2).
func (r *trunkReg) build(local, public netip.AddrPort, branch string, expires int, auth string) []byte {
	transport := strings.ToUpper(r.up.Transport)
	host := addrHostPort(local)
	domain := r.up.SIPDomain()
	contact := "sip:" + r.up.Username + "@" + addrHostPort(public)
	if transport != "UDP" {
		contact += ";transport=" + r.up.Transport
	}
	var m strings.Builder
	m.Grow(640)
	m.WriteString("REGISTER " + r.requestURI() + " SIP/2.0\r\n")
	m.WriteString("Via: SIP/2.0/" + transport + " " + host + ";branch=" + branch + ";rport\r\n")
	m.WriteString("Max-Forwards: 70\r\n")
	m.WriteString("From: <sip:" + r.up.Username + "@" + domain + ">;tag=" + r.fromTag + "\r\n")
	m.WriteString("To: <sip:" + r.up.Username + "@" + domain + ">\r\n")
	m.WriteString("Call-ID: " + r.callID + "\r\n")
	m.WriteString("CSeq: " + strconv.Itoa(r.cseq) + " REGISTER\r\n")
	m.WriteString("Contact: <" + contact + ">\r\n")
	m.WriteString("Expires: " + strconv.Itoa(expires) + "\r\n")
	m.WriteString("Allow: " + allowed + "\r\n")
	if auth != "" {
		m.WriteString(auth + "\r\n")
	}
	m.WriteString("User-Agent: Dialtone\r\nContent-Length: 0\r\n\r\n")
	return []byte(m.String())
}

func addrHostPort(a netip.AddrPort) string {
	h := a.Addr().String()
	if a.Addr().Is6() {
		h = "[" + h + "]"
	}
	return h + ":" + strconv.Itoa(int(a.Port()))
}

// flow gives how to send to the registrar and the local address requests name: the
// listening UDP socket (so the upstream's calls come back to where phones register,
// through the same NAT pinhole), or the registration's own TCP or TLS connection,
// opened when there is none.
func (r *trunkReg) flow(ctx context.Context) (*hop, error) {
	host, port := r.up.Addr()
	dst, err := resolveUpstream(ctx, host, port)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.dst, r.state.Registrar = dst, dst.String()
	r.mu.Unlock()
	if r.up.Transport == "udp" {
		sock := r.s.udpSocketFor(dst)
		if sock == nil {
			return nil, errNoSocket
		}
		local, err := localAddrFor(sock, dst)
		if err != nil {
			return nil, err
		}
		return &hop{transport: "UDP", dst: dst, local: local, write: sock.writeTo}, nil
	}
	r.mu.Lock()
	c := r.conn
	r.mu.Unlock()
	if c == nil || r.key.src != dst || !r.s.liveConn(r.key, c) {
		if c != nil {
			r.s.dropConn(c, r.key)
		}
		if c, err = r.dial(ctx, dst); err != nil {
			return nil, err
		}
	}
	return &hop{transport: c.transport, dst: dst, local: addrPortOf(c.c.LocalAddr()),
		write: func(b []byte, _ netip.AddrPort) error { return c.write(b) }}, nil
}

// dial opens the registration's connection and reads it like a phone's: responses go
// to their transactions, the upstream's requests (its calls) to the server.
func (r *trunkReg) dial(ctx context.Context, dst netip.AddrPort) (*tcpConn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, fmt.Errorf("connecting to the upstream: %w", err)
	}
	tc := &tcpConn{c: nc, transport: "TCP"}
	if r.up.Transport == "tls" {
		conf := &tls.Config{MinVersion: tls.VersionTLS12}
		if r.s.cfg.UpstreamTLS != nil {
			conf = r.s.cfg.UpstreamTLS.Clone()
		}
		if conf.ServerName == "" {
			conf.ServerName = r.up.Host // a name, or an address its certificate must name
		}
		tlc := tls.Client(nc, conf)
		hctx, cancel := context.WithTimeout(ctx, tlsHandshakeTimeout)
		err := tlc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS with the upstream: %w", err)
		}
		tc.c, tc.transport = tlc, "TLS"
	}
	key := flowKey{tc.transport, dst}
	r.s.mu.Lock()
	r.s.tcp[key] = tc
	r.s.mu.Unlock()
	r.mu.Lock()
	r.conn, r.key = tc, key
	r.mu.Unlock()
	r.s.trunks.wg.Add(1)
	go func() {
		defer r.s.trunks.wg.Done()
		r.s.readTCP(tc, key)
		r.mu.Lock()
		mine := r.conn == tc
		r.mu.Unlock()
		if mine {
			select {
			case r.lost <- struct{}{}:
			default:
			}
		}
	}()
	return tc, nil
}

func addrPortOf(a net.Addr) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(a.String())
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// liveConn says whether c is still the open connection of key.
func (s *Server) liveConn(key flowKey, c *tcpConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcp[key] == c
}

// resolveUpstream resolves the upstream's host (A/AAAA; no SRV or NAPTR), IPv4 first.
func resolveUpstream(ctx context.Context, host string, port int) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("the upstream host %s does not resolve", host)
	}
	best := addrs[0].Unmap()
	for _, a := range addrs {
		if a.Unmap().Is4() {
			best = a.Unmap()
			break
		}
	}
	return netip.AddrPortFrom(best, uint16(port)), nil
}

// udpSocketFor picks a listening UDP socket that can reach dst.
func (s *Server) udpSocketFor(dst netip.AddrPort) *udpSocket {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.udp {
		la := addrPortOf(u.pc.LocalAddr())
		if la.Addr().Is4() == dst.Addr().Is4() || la.Addr().IsUnspecified() && la.Addr().Is6() {
			return u
		}
	}
	return nil
}

// localAddrFor is the address the upstream reaches sock at: its own, or when it is
// bound to every interface, the address of the interface the route to dst leaves by.
func localAddrFor(sock *udpSocket, dst netip.AddrPort) (netip.AddrPort, error) {
	la := addrPortOf(sock.pc.LocalAddr())
	if !la.Addr().IsUnspecified() {
		return la, nil
	}
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst)) // no packet is sent
	if err != nil {
		return la, fmt.Errorf("no route to the upstream: %w", err)
	}
	defer c.Close()
	return netip.AddrPortFrom(addrPortOf(c.LocalAddr()).Addr(), la.Port()), nil
}
