package sip

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/emiago/sipgo/sip"
)

// proxy is the stateful call proxy's state (RFC 3261 §16): the server transactions it
// answers, the client transactions of their branches, and the calls in progress. All
// three are bounded (maxServerTxs, maxClientTxs, Config.MaxCalls): over a cap a new
// INVITE is answered 503 with a reason, nothing grows. A call holds three server
// transactions for a while (the challenged INVITE until its ACK and Timer I, the
// answered INVITE for Timer L and its BYE for Timer J: 5 s each, txWait), so 1,000
// calls a second keep some 15,000 alive; the caps leave room for four times that.
// Each costs some KiB.
type proxy struct {
	mac     macs // seals route tokens (proxy_route.go) and Via branches
	txLog   *slog.Logger
	mu      sync.Mutex
	servers map[string]*fwd
	clients map[string]*sip.ClientTx
	calls   *callTable
	invites *ratelimit.Strikes[netip.Addr] // new INVITEs per source (proxy_limits.go)
}

const (
	maxServerTxs = 65536
	maxClientTxs = 65536
)

func newProxy(s *Server) *proxy {
	p := &proxy{
		txLog:   s.log.With("part", "proxy-tx"),
		servers: make(map[string]*fwd),
		clients: make(map[string]*sip.ClientTx),
	}
	rand.Read(p.mac.key[:])
	p.calls = newCallTable(s.cfg.MaxCalls, s.now)
	p.invites = ratelimit.NewStrikes[netip.Addr](invitePolicy(s.cfg.InvitesPerSource), s.now)
	return p
}

// serverKey names a server transaction (RFC 3261 §17.2.3): the top Via's branch and
// sent-by with the method, ACK and CANCEL matching their INVITE. A request without
// the RFC 3261 magic cookie is matched by Call-ID, From tag and CSeq number.
func serverKey(req *sip.Request, method sip.RequestMethod) string {
	via := req.Via()
	branch, _ := via.Params.Get("branch")
	var b strings.Builder
	if strings.HasPrefix(branch, sip.RFC3261BranchMagicCookie) && len(branch) > len(sip.RFC3261BranchMagicCookie) {
		b.WriteString(branch)
		b.WriteByte('|')
		b.WriteString(via.Host)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(via.Port))
	} else {
		tag, _ := req.From().Params.Get("tag")
		b.WriteString(req.CallID().Value())
		b.WriteByte('|')
		b.WriteString(tag)
		b.WriteByte('|')
		b.WriteString(strconv.FormatUint(uint64(req.CSeq().SeqNo), 10))
	}
	b.WriteByte('|')
	b.WriteString(string(method))
	return b.String()
}

// clientKey names a client transaction by our branch and the method (RFC 3261 §17.1.3).
func clientKey(branch string, method sip.RequestMethod) string {
	if method == sip.ACK {
		method = sip.INVITE
	}
	return branch + "|" + string(method)
}

// addServer registers a forwarding context under its key; false when the table is full.
func (p *proxy) addServer(key string, f *fwd) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.servers) >= maxServerTxs {
		return false
	}
	p.servers[key] = f
	return true
}

func (p *proxy) server(key string) *fwd {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.servers[key]
}

func (p *proxy) dropServer(key string, f *fwd) {
	p.mu.Lock()
	if p.servers[key] == f {
		delete(p.servers, key)
	}
	p.mu.Unlock()
}

func (p *proxy) addClient(key string, tx *sip.ClientTx) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.clients) >= maxClientTxs {
		return false
	}
	p.clients[key] = tx
	return true
}

func (p *proxy) dropClient(key string) {
	p.mu.Lock()
	delete(p.clients, key)
	p.mu.Unlock()
}

// deliverProxyResponse hands a response to the client transaction of its branch;
// false when it is none of the proxy's.
func (s *Server) deliverProxyResponse(res *sip.Response) bool {
	if s.proxy == nil {
		return false
	}
	via := res.Via()
	cseq := res.CSeq()
	if via == nil || cseq == nil {
		return false
	}
	branch, _ := via.Params.Get("branch")
	s.proxy.mu.Lock()
	tx := s.proxy.clients[clientKey(branch, cseq.MethodName)]
	s.proxy.mu.Unlock()
	if tx == nil {
		if !strings.HasPrefix(branch, sip.RFC3261BranchMagicCookie+"dt") {
			return false
		}
		if cseq.MethodName == sip.INVITE && res.IsSuccess() {
			s.forwardStray2xx(res)
		}
		return true // ours, its transaction over: absorbed
	}
	tx.Receive(res)
	return true
}

// forwardStray2xx forwards a 2xx to an INVITE whose client transaction has ended (the
// callee retransmits it until the ACK comes) statelessly, to where the next Via says:
// its received and rport, which we wrote (RFC 3261 §16.7 step 10, §18.2.2). Only when
// our branch's seal matches that destination and the Call-ID (sealBranch): a forged
// response cannot make us send anything anywhere else.
func (s *Server) forwardStray2xx(res *sip.Response) {
	branch, _ := res.Via().Params.Get("branch")
	out := forwardable(res)
	via := out.Via()
	if via == nil || out.CallID() == nil {
		return
	}
	dst, ok := viaDest(via)
	if !ok || !s.proxy.branchSealed(branch, out.CallID().Value(), via.Transport, dst) {
		return
	}
	h, err := s.hopTo(strings.ToUpper(via.Transport), dst)
	if err != nil {
		return
	}
	h.WriteMsg(out)
}

// viaDest is where answers to the hop that wrote via go (RFC 3581 §4, RFC 3261
// §18.2.2): its received and rport, else its sent-by.
func viaDest(via *sip.ViaHeader) (netip.AddrPort, bool) {
	host, port := via.Host, via.Port
	if r, ok := via.Params.Get("received"); ok && r != "" {
		host = r
	}
	if r, ok := via.Params.Get("rport"); ok && r != "" {
		port, _ = strconv.Atoi(r)
	}
	if port == 0 {
		port = 5060
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || port < 0 || port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

// sealBranch is our Via branch for a request forwarded for the hop whose Via is prev:
// the magic cookie, the loop-detection hash of the request as received (RFC 3261 §16.6
// step 8), a random part, and a MAC over it, the Call-ID and where prev's answers go.
func (p *proxy) sealBranch(loop, callID string, prev *sip.ViaHeader) string {
	r := randHex(4)
	b := sip.RFC3261BranchMagicCookie + "dt" + loop + "." + r
	if dst, ok := viaDest(prev); ok {
		b += "." + p.branchMAC(r, callID, prev.Transport, dst)
	}
	return b
}

// branchSealed checks a branch of ours against the Call-ID and the destination.
func (p *proxy) branchSealed(branch, callID, transport string, dst netip.AddrPort) bool {
	parts := strings.Split(branch, ".")
	if len(parts) != 3 {
		return false
	}
	return hmac.Equal([]byte(parts[2]), []byte(p.branchMAC(parts[1], callID, transport, dst)))
}

func (p *proxy) branchMAC(r, callID, transport string, dst netip.AddrPort) string {
	var buf [128]byte
	b := append(buf[:0], "branch\x00"...)
	b = append(b, r...)
	b = append(b, 0)
	b = append(b, callID...)
	b = append(b, 0)
	for i := 0; i < len(transport); i++ {
		c := transport[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	b = append(b, 0)
	b = dst.AppendTo(b)
	m := p.mac.get()
	m.Write(b)
	sum := m.Sum(buf[:0])
	p.mac.put(m)
	return hex.EncodeToString(sum[:8])
}

// Completed transactions are kept 5 s (Kamailio's tm wait timer), not RFC 3261's
// 64×T1 (32 s over UDP): long enough for the retransmissions a lost answer brings, and
// a seventh of the memory under load (at 400 calls a second, 32 s kept some 28,000
// server transactions alive). A retransmitted 2xx after its client transaction ended
// is forwarded statelessly (forwardStray2xx); a late retransmitted BYE or INVITE is
// forwarded or answered again, as a new request. The requests we send of our own
// (clienttx.go) end their transactions at the final answer, so these do not hold them.
const txWait = 5 * time.Second

func init() {
	sip.Timer_J, sip.Timer_L, sip.Timer_M, sip.Timer_D = txWait, txWait, txWait, txWait
}

// timerC bounds how long an INVITE branch may ring (RFC 3261 §16.6 step 11: more
// than three minutes).
const timerC = 3*time.Minute + 5*time.Second
