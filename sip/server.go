package sip

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/digest"
	"github.com/dialtone/dialtone/internal/ratelimit"
	"github.com/dialtone/dialtone/store"
	"github.com/emiago/sipgo/sip"
)

// Config is what New needs. Store is required (bindings, change events); Directory
// defaults to one over Store.
type Config struct {
	Store      *store.Store
	Directory  Directory
	Logger     *slog.Logger
	PublicHost string   // the host written into phone configs; selects tenant "default"
	Flex       FlexDesk // flex login rules; nil answers every code with 403
	Now        func() time.Time
	// Expiry bounds in seconds (defaults 3600, 60, 7200).
	DefaultExpires, MinExpires, MaxExpires int
	// MaxContacts per AOR (default 5; a flex guest account always 1). Over it, the
	// oldest binding is dropped, so a phone that changed address is never locked out.
	MaxContacts int
	// Readers is the number of goroutines reading each UDP socket (default 1). More
	// readers of one socket take turns at its read lock and park and wake each other:
	// on two cores, one reader answered the same 3,000-10,000 registrations/s with 10-25%
	// less CPU than two (sip/internal/benchserver). One reader carries about 10,000
	// registrations a second, far more than desk phones ask for.
	Readers int
	// PnP answers plug-and-play SUBSCRIBEs (Event: ua-profile, pnp.go); nil refuses them.
	PnP PnPDesk
	// TCPConnsPerSource caps the SIP-over-TCP connections one source (ratelimit.Source)
	// holds open at once (default 32: the phones behind an office NAT; < 0 no cap). An
	// accepted connection over it is closed at once and passed to TCPRefused.
	TCPConnsPerSource int
	TCPRefused        func(netip.Addr)
	// OnRegister, when set, is called once per REGISTER with the status code answered
	// (0: none, the request was dropped) and the time from its arrival to the answer.
	OnRegister func(code int, d time.Duration)

	// Dialplan routes calls through the proxy (proxy*.go); nil leaves the registrar
	// alone, answering every INVITE that is not a flex code 404.
	Dialplan Dialplan
	// Upstreams gives each tenant's upstream (outside calls, calls from it); nil: the
	// server's own, the upstreams in the store it registers to (trunk.go).
	Upstreams Upstreams
	// MaxCalls bounds the calls in progress at once, all tenants (default
	// DefaultMaxCalls); InvitesPerSource the new INVITEs one source may send a second
	// (default DefaultInvitesPerSource; < 0 no limit).
	MaxCalls, InvitesPerSource int
	// UpstreamRetry is the first wait after a failed registration to a tenant's
	// upstream, doubled after each further failure up to 5 minutes (default 5 s).
	// UpstreamTLS is the client side of TLS to upstreams (nil: the system's roots).
	UpstreamRetry time.Duration
	UpstreamTLS   *tls.Config
	Calls         CallObserver // told of every call's steps (call history); nil: nobody
}

// DefaultTCPConnsPerSource is Config.TCPConnsPerSource's default.
const DefaultTCPConnsPerSource = 32

// Server is the registrar.
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	accounts *Accounts
	nonces   *digest.Nonces
	guard    *ratelimit.Strikes[netip.Addr] // failed passwords per source (throttle.go)
	bindings *Bindings
	date     dateHeader
	tag      string
	parser   *sip.Parser
	flex     FlexDesk

	mu   sync.Mutex
	udp  []*udpSocket
	tcp  map[flowKey]*tcpConn     // open TCP and TLS connections (flows)
	txs  map[string]*sip.ClientTx // our own requests' client transactions (clienttx.go)
	done chan struct{}

	flowsLost   atomic.Uint64                  // requests not sent: the binding's connection was gone (tls.go)
	pnpGuard    *ratelimit.Strikes[netip.Addr] // plug-and-play SUBSCRIBEs per source (pnp.go)
	pnpSem      chan struct{}
	pnpAnswered atomic.Uint64
	invites     *answerCache
	challenges  *challengeCache
	aorLocks    aorLocks
	resync      *resyncQueue
	actions     *actionQueues // remote actions, paced per tenant (actions.go)
	flexSem     chan struct{}
	proxy       *proxy        // the call proxy; nil without a Dialplan
	blf         *dialogEvents // BLF subscriptions (dialogevent.go)
	unsubscr    func()
	trunks      *trunks // tenants' upstreams (trunk.go)
	trunkUnsub  func()
	bg          sync.WaitGroup
	bgCancel    context.CancelFunc
}

// New builds a registrar; it loads the persisted bindings and follows store changes.
// Close ends its background work.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("sip: a store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Directory == nil {
		cfg.Directory = StoreDirectory{cfg.Store}
	}
	if cfg.DefaultExpires <= 0 {
		cfg.DefaultExpires = 3600
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = 60
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = 7200
	}
	if cfg.MaxContacts <= 0 {
		cfg.MaxContacts = 5
	}
	log := cfg.Logger.With("svc", "sip")
	tag := make([]byte, 8)
	rand.Read(tag)
	s := &Server{
		cfg: cfg, log: log, now: cfg.Now,
		accounts:   newAccounts(cfg.Directory, cfg.PublicHost),
		nonces:     digest.NewNonces(cfg.Now, 1<<18),
		guard:      newSourceStrikes(cfg.Now),
		bindings:   newBindings(cfg.Store, log, cfg.Now),
		tag:        hex.EncodeToString(tag),
		parser:     sip.NewParser(),
		flex:       cfg.Flex,
		tcp:        make(map[flowKey]*tcpConn),
		txs:        make(map[string]*sip.ClientTx),
		done:       make(chan struct{}),
		invites:    newAnswerCache(4096, 32*time.Second, cfg.Now),
		challenges: newChallengeCache(cfg.Now),
		flexSem:    make(chan struct{}, 64),
		pnpGuard:   ratelimit.NewStrikes[netip.Addr](pnpPolicy, cfg.Now),
		pnpSem:     make(chan struct{}, pnpInFlight),
	}
	s.date.now = cfg.Now
	s.blf = newDialogEvents(s)
	s.cfg.Calls = withBLF(s.blf, cfg.Calls) // the proxy tells the BLF notifier too
	if cfg.Dialplan != nil {
		s.proxy = newProxy(s)
	}
	s.aorLocks.seed = maphash.MakeSeed()
	n, err := s.bindings.load()
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("bindings restored", "count", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.bgCancel = cancel
	s.resync = newResyncQueue(s, 300*time.Millisecond)
	s.actions = newActionQueues(s)
	s.bg.Add(2)
	go func() {
		defer s.bg.Done()
		crash.Restart(log, "sip", "bindings flush", func() { s.bindings.flushLoop(ctx) })
	}()
	go func() { defer s.bg.Done(); crash.Restart(log, "sip", "check-sync queue", func() { s.resync.run(ctx) }) }()
	s.trunks = newTrunks(s)
	if s.cfg.Upstreams == nil {
		s.cfg.Upstreams = s
	}
	s.trunkUnsub = cfg.Store.Subscribe(s.trunks.onChange, store.KindUpstream)
	if err := s.trunks.load(); err != nil {
		s.trunkUnsub()
		cancel()
		s.bg.Wait()
		return nil, err
	}
	s.unsubscr = cfg.Store.Subscribe(s.onChange,
		store.KindTenant, store.KindUser, store.KindExtension, store.KindPhone, store.KindFlex, store.KindSetting)
	return s, nil
}

// Close stops following the store and persists the bindings still pending.
func (s *Server) Close() error {
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		return nil
	default:
		close(s.done)
	}
	s.mu.Unlock()
	s.unsubscr()
	s.trunkUnsub()
	s.trunks.close()
	s.bgCancel()
	s.bg.Wait()
	return nil
}

// Registrations lists the live bindings of a tenant (GET …/registrations).
func (s *Server) Registrations(tenant string) []Binding { return s.bindings.Registrations(tenant) }

// RegistrationCounts gives every tenant's live registrations (AORs and bindings).
func (s *Server) RegistrationCounts() map[string]Count { return s.bindings.Counts() }

// answeredCode reads the status code of the response in b ("SIP/2.0 200 OK…"); 0 when
// b holds none.
func answeredCode(b []byte) int {
	const prefix = "SIP/2.0 "
	if len(b) < len(prefix)+3 || string(b[:len(prefix)]) != prefix {
		return 0
	}
	n := 0
	for _, c := range b[len(prefix) : len(prefix)+3] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// inbound is one received message and where it came from.
type inbound struct {
	src       netip.AddrPort
	transport string         // "UDP", "TCP" or "TLS"
	local     netip.AddrPort // the socket's own address
	write     func(b []byte, to netip.AddrPort) error
}

// send answers to where the request came from (RFC 3581 §4: the source port).
func (in *inbound) send(b []byte) error { return in.write(b, in.src) }

// maxMessage bounds what we parse; a REGISTER is well under 2 KiB.
const maxMessage = 16 << 10

// handleMessage parses and answers one message; w is the caller's reused writer. A panic
// while answering ends this message only (internal/crash): the reader goes on with the
// next datagram or the connection's next message.
func (s *Server) handleMessage(data []byte, in *inbound, w *replyWriter) {
	defer crash.RecoverWith(s.log, "sip", "message", w.abandon)
	if len(data) > maxMessage || !cleanHeaders(data) {
		return // oversize or header injection: dropped
	}
	if s.cfg.OnRegister != nil && bytes.HasPrefix(data, []byte("REGISTER ")) {
		start := time.Now()
		w.b = w.b[:0]
		defer func() { s.cfg.OnRegister(answeredCode(w.b), time.Since(start)) }()
	}
	msg, err := s.parser.ParseSIP(data)
	if err != nil {
		return // garbage: dropped, no log line per packet
	}
	switch m := msg.(type) {
	case *sip.Response:
		s.deliverResponse(m)
	case *sip.Request:
		w.req, w.raw, w.src, w.tag, w.txKey = m, data, in.src, s.tag, 0
		if w.scan() {
			s.handleRequest(m, in, w)
		}
		w.req, w.raw = nil, nil
	}
}

func (s *Server) handleRequest(req *sip.Request, in *inbound, w *replyWriter) {
	if req.Via() == nil {
		return // nowhere to answer
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil ||
		req.CSeq().MethodName != req.Method {
		in.send(w.simple(400, "Bad Request")) // RFC 3261 §8.1.1 mandatory headers
		return
	}
	switch req.Method {
	case sip.REGISTER:
		s.onRegister(req, in, w)
	case sip.OPTIONS:
		// Keep-alive and capability query (RFC 3261 §11).
		w.status(200, "OK")
		w.header("Allow", s.allow())
		w.header("Accept", "application/sdp")
		in.send(w.finish())
	case sip.INVITE:
		if !s.proxyInvite(req, in, w) {
			s.onInvite(req, in, w)
		}
	case sip.SUBSCRIBE:
		s.onSubscribe(req, in, w)
	case sip.ACK:
		if s.proxy != nil {
			s.proxyAck(req, in, w)
		}
		// Else the ACK of our non-2xx final answer: nothing to do (RFC 3261 §17.2.1).
	case sip.CANCEL:
		if s.proxy != nil {
			s.proxyCancel(req, in, w)
			return
		}
		in.send(w.simple(481, "Call/Transaction Does Not Exist"))
	case sip.BYE, sip.UPDATE, sip.PRACK, sip.INFO, sip.MESSAGE, sip.REFER, sip.NOTIFY:
		if s.proxy != nil {
			s.proxyInDialog(req, in, w)
			return
		}
		w.status(405, "Method Not Allowed")
		w.header("Allow", s.allow())
		in.send(w.finish())
	default:
		w.status(405, "Method Not Allowed")
		w.header("Allow", s.allow())
		in.send(w.finish())
	}
}

const allowed = "REGISTER, OPTIONS, INVITE, ACK, CANCEL, SUBSCRIBE"

// allowedProxy adds what the call proxy forwards within calls.
const allowedProxy = allowed + ", BYE, UPDATE, PRACK, INFO, MESSAGE, REFER, NOTIFY"

func (s *Server) allow() string {
	if s.proxy != nil {
		return allowedProxy
	}
	return allowed
}

// saneVia: the top Via names SIP/2.0, a transport and a plain host (RFC 3261 §20.42).
func saneVia(via *sip.ViaHeader) bool {
	return via != nil && strings.EqualFold(via.ProtocolName, "SIP") && via.ProtocolVersion == "2.0" &&
		via.Transport != "" && via.Host != "" && !strings.ContainsAny(via.Host, ",;\" ")
}

// cleanHeaders refuses control characters and bare CR or LF in the header section, so
// nothing we echo can inject a header line.
func cleanHeaders(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\r':
			if i+1 >= len(b) || b[i+1] != '\n' {
				return false
			}
			if i+3 < len(b) && b[i+2] == '\r' && b[i+3] == '\n' {
				return true // end of headers; the body is not echoed
			}
			i++
		case c == '\n':
			return false
		case c < 0x20 && c != '\t', c == 0x7f:
			return false
		}
	}
	return true
}
