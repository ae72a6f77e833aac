package sip

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/store"
)

// Trunk states (TrunkState.State).
const (
	TrunkRegistering = "registering" // first attempt, or retrying after a failure not yet answered
	TrunkRegistered  = "registered"
	TrunkFailed      = "failed"
	TrunkStopped     = "stopped"
)

// TrunkState is how a tenant's registration to its upstream stands (GET …/upstream).
type TrunkState struct {
	State       string    `json:"state"`
	Reason      string    `json:"reason,omitempty"`
	Registrar   string    `json:"registrar,omitempty"` // the address registered to, resolved
	Transport   string    `json:"transport,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// trunks holds every tenant's upstream: the running registrations (register mode) and
// the addresses calls from an upstream are trusted by (ip mode). It follows the store.
type trunks struct {
	s  *Server
	mu sync.Mutex
	up map[string]store.Upstream // tenant → its upstream
	// regs are the running registrations by tenant.
	regs map[string]*trunkReg
	// trusted are the ip-mode upstreams' addresses (their trusted prefixes, or the
	// addresses their host resolved to).
	trusted map[string][]netip.Prefix
	gen     map[string]int // bumps on each change of a tenant's upstream
	wg      sync.WaitGroup
}

func newTrunks(s *Server) *trunks {
	return &trunks{s: s, up: map[string]store.Upstream{}, regs: map[string]*trunkReg{},
		trusted: map[string][]netip.Prefix{}, gen: map[string]int{}}
}

// load starts from every upstream in the store.
func (t *trunks) load() error {
	us, err := t.s.cfg.Store.Upstreams()
	if err != nil {
		return err
	}
	for _, u := range us {
		t.set(u.Tenant, &u)
	}
	return nil
}

// onChange follows upstream changes: a changed upstream's registration is restarted, a
// removed one stopped (un-registering in the background).
func (t *trunks) onChange(c store.Change) {
	switch {
	case c.Op == store.OpReload:
		us, err := t.s.cfg.Store.Upstreams()
		if err != nil {
			t.s.log.Error("upstreams reload", "err", err)
			return
		}
		seen := map[string]bool{}
		for _, u := range us {
			seen[u.Tenant] = true
			t.set(u.Tenant, &u)
		}
		t.mu.Lock()
		var gone []string
		for tenant := range t.up {
			if !seen[tenant] {
				gone = append(gone, tenant)
			}
		}
		t.mu.Unlock()
		for _, tenant := range gone {
			t.set(tenant, nil)
		}
	case c.Kind != store.KindUpstream:
	case c.Op == store.OpDelete:
		t.set(c.Tenant, nil)
	default:
		if u, ok := c.New.(store.Upstream); ok {
			t.set(c.Tenant, &u)
		}
	}
}

// set installs a tenant's upstream (nil: none), stopping the registration it had.
func (t *trunks) set(tenant string, u *store.Upstream) {
	t.mu.Lock()
	old := t.regs[tenant]
	delete(t.regs, tenant)
	delete(t.trusted, tenant)
	t.gen[tenant]++
	gen := t.gen[tenant]
	if u == nil {
		delete(t.up, tenant)
	} else {
		t.up[tenant] = *u
		switch u.Mode {
		case store.UpstreamRegister:
			r := newTrunkReg(t.s, *u)
			t.regs[tenant] = r
			t.start(r, old)
		case store.UpstreamIP:
			if ps := u.TrustedPrefixes(); len(ps) > 0 {
				t.trusted[tenant] = ps
			} else {
				t.resolveTrusted(tenant, gen, u.Host)
			}
		}
	}
	t.mu.Unlock()
	if old != nil {
		old.stop() // un-registers in its own goroutine; its successor waits for it
	}
}

func (t *trunks) start(r, prev *trunkReg) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer close(r.done)
		crash.Restart(t.s.log, "sip", "upstream registration", func() { r.run(prev) })
	}()
}

// resolveTrusted trusts the addresses an ip-mode upstream's host resolves to (once;
// the upstream is saved again to resolve anew).
func (t *trunks) resolveTrusted(tenant string, gen int, host string) {
	if a, err := netip.ParseAddr(host); err == nil {
		t.trusted[tenant] = []netip.Prefix{netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())}
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			t.s.log.Warn("upstream host does not resolve: calls from it are not trusted", "tenant", tenant, "host", host, "err", err)
			return
		}
		var ps []netip.Prefix
		for _, a := range addrs {
			a = a.Unmap()
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
		}
		t.mu.Lock()
		if t.gen[tenant] == gen {
			t.trusted[tenant] = ps
		}
		t.mu.Unlock()
	}()
}

// close stops every registration (un-registering, bounded) and waits for them.
func (t *trunks) close() {
	t.mu.Lock()
	regs := t.regs
	t.regs = map[string]*trunkReg{}
	t.mu.Unlock()
	for _, r := range regs {
		r.stop()
	}
	t.wg.Wait()
}

// UpstreamState is how the tenant's registration to its upstream stands; false when it
// is not registering (no upstream, or one in ip mode).
func (s *Server) UpstreamState(tenant string) (TrunkState, bool) {
	s.trunks.mu.Lock()
	r := s.trunks.regs[tenant]
	s.trunks.mu.Unlock()
	if r == nil {
		return TrunkState{}, false
	}
	return r.snapshot(), true
}

// UpstreamStates gives the state of every tenant's registration to its upstream.
func (s *Server) UpstreamStates() map[string]TrunkState {
	s.trunks.mu.Lock()
	regs := make(map[string]*trunkReg, len(s.trunks.regs))
	for tenant, r := range s.trunks.regs {
		regs[tenant] = r
	}
	s.trunks.mu.Unlock()
	out := make(map[string]TrunkState, len(regs))
	for tenant, r := range regs {
		out[tenant] = r.snapshot()
	}
	return out
}

// Target is where the tenant's upstream calls go (Upstreams).
func (s *Server) Target(tenant string) (UpstreamTarget, bool) {
	s.trunks.mu.Lock()
	u, ok := s.trunks.up[tenant]
	s.trunks.mu.Unlock()
	if !ok {
		return UpstreamTarget{}, false
	}
	host, port := u.Addr()
	t := UpstreamTarget{Host: host, Port: port, Transport: strings.ToUpper(u.Transport),
		Username: u.Username, Domain: u.SIPDomain()}
	if u.Password != "" {
		pw, err := s.cfg.Store.OpenSecret(u.Password)
		if err != nil {
			s.log.Error("upstream password does not open", "tenant", tenant, "err", err)
			return UpstreamTarget{}, false
		}
		t.Password = pw
	}
	return t, true
}

// FromUpstream names the tenant whose upstream src is (Upstreams): an ip-mode
// upstream's trusted addresses, or a registered upstream's registrar (its resolved
// address; over TCP and TLS, the registration's connection). A source claimed by more
// than one tenant (two tenants registered to one provider) is nobody's here; UpstreamFor
// tells them apart by the Request-URI user.
func (s *Server) FromUpstream(src netip.AddrPort) (string, bool) {
	return s.UpstreamFor(src, "")
}

// UpstreamFor is FromUpstream for a request whose Request-URI user is user: when
// several tenants registered to the source's provider, the one registered as user
// (the Contact user of its registration, which the provider calls) is the one.
func (s *Server) UpstreamFor(src netip.AddrPort, user string) (string, bool) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	t := s.trunks
	t.mu.Lock()
	defer t.mu.Unlock()
	var claim []string
	for tenant, ps := range t.trusted {
		for _, p := range ps {
			if p.Contains(src.Addr()) {
				claim = append(claim, tenant)
				break
			}
		}
	}
	for tenant, r := range t.regs {
		if r.from(src) {
			claim = append(claim, tenant)
		}
	}
	switch {
	case len(claim) == 1:
		return claim[0], true
	case len(claim) == 0 || user == "":
		return "", false
	}
	found := ""
	for _, tenant := range claim {
		if r := t.regs[tenant]; r != nil && r.up.Username == user {
			if found != "" {
				return "", false
			}
			found = tenant
		}
	}
	return found, found != ""
}

var _ Upstreams = (*Server)(nil)

// errNoSocket: the server has no socket yet to register from.
var errNoSocket = errors.New("no SIP socket to send from")
