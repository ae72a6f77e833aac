package sip

import (
	"crypto/rand"
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
// INVITE is answered 503 with a reason, nothing grows.
type proxy struct {
	key     [32]byte // seals route tokens (proxy_route.go)
	txLog   *slog.Logger
	mu      sync.Mutex
	servers map[string]*fwd
	clients map[string]*sip.ClientTx
	calls   *callTable
	invites *ratelimit.Strikes[netip.Addr] // new INVITEs per source (proxy_limits.go)
}

const (
	maxServerTxs = 16384
	maxClientTxs = 32768
)

func newProxy(s *Server) *proxy {
	p := &proxy{
		txLog:   s.log.With("part", "proxy-tx"),
		servers: make(map[string]*fwd),
		clients: make(map[string]*sip.ClientTx),
	}
	rand.Read(p.key[:])
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
		return false
	}
	tx.Receive(res)
	return true
}

// newBranchID is our Via branch: the magic cookie, the loop-detection hash of the
// request as received (RFC 3261 §16.6 step 8) and a random part.
func newBranchID(loop string) string {
	return sip.RFC3261BranchMagicCookie + "dt" + loop + "." + randHex(6)
}

// timerC bounds how long an INVITE branch may ring (RFC 3261 §16.6 step 11: more
// than three minutes).
const timerC = 3*time.Minute + 5*time.Second
