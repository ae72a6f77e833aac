package sip

import (
	"sync"
	"time"
)

// call is one call the proxy routed, from its INVITE to its BYE (or its final non-2xx
// answer): what the CallObserver is told and what the concurrency limits count.
type call struct {
	id     string // the caller's Call-ID
	key    string // id and the caller's flow: a call that spirals back is another call
	tenant string
	users  []string // users the call counts against (tenant/user ID)
	caller Caller
	from   string
	to     string // the number dialled
	route  Route
	at     time.Time

	mu       sync.Mutex
	answered bool
	ended    bool
}

// callTable holds the calls in progress, bounded: at most max at once (Config.MaxCalls).
// A call whose BYE never came through us (a phone lost power) is forgotten after
// maxCallAge, when the table needs room.
type callTable struct {
	mu        sync.Mutex
	max       int
	byID      map[string]*call
	perTenant map[string]int
	perUser   map[string]int
	now       func() time.Time
	lastSweep time.Time
}

// DefaultMaxCalls is Config.MaxCalls' default: calls in progress at once, all tenants.
const DefaultMaxCalls = 20000

// maxCallAge is how long a call without a BYE is kept.
const maxCallAge = 12 * time.Hour

func newCallTable(max int, now func() time.Time) *callTable {
	if max <= 0 {
		max = DefaultMaxCalls
	}
	return &callTable{max: max, byID: make(map[string]*call), perTenant: make(map[string]int),
		perUser: make(map[string]int), now: now}
}

// limitRefusal is why a call was not admitted; zero when it was.
type limitRefusal struct {
	code   int
	reason string
}

// admit adds c unless a limit says no: the table's size, the tenant's max_calls
// (503), the caller's max_calls_per_user (503), the callee's (486: busy).
func (t *callTable) admit(c *call, tenantMax, userMax int, callee string) limitRefusal {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.byID) >= t.max {
		t.sweepLocked()
		if len(t.byID) >= t.max {
			return limitRefusal{503, "Too many calls in progress"}
		}
	}
	if _, dup := t.byID[c.key]; dup {
		return limitRefusal{482, "Loop Detected"} // the same call from the same place
	}
	if t.perTenant[c.tenant] >= tenantMax {
		return limitRefusal{503, "Too many calls for this tenant"}
	}
	for _, u := range c.users {
		if t.perUser[u] >= userMax {
			if u == callee {
				return limitRefusal{486, "Busy: too many calls for this user"}
			}
			return limitRefusal{503, "Too many calls for this user"}
		}
	}
	t.byID[c.key] = c
	t.perTenant[c.tenant]++
	for _, u := range c.users {
		t.perUser[u]++
	}
	return limitRefusal{}
}

// end removes c; false when it was gone already.
func (t *callTable) end(c *call) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID[c.key] != c {
		return false
	}
	t.removeLocked(c)
	return true
}

func (t *callTable) byKey(key string) *call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[key]
}

func callKey(callID string, caller callEnd) string {
	return callID + "|" + caller.transport + "|" + caller.addr.String()
}

func (t *callTable) removeLocked(c *call) {
	delete(t.byID, c.key)
	if t.perTenant[c.tenant]--; t.perTenant[c.tenant] <= 0 {
		delete(t.perTenant, c.tenant)
	}
	for _, u := range c.users {
		if t.perUser[u]--; t.perUser[u] <= 0 {
			delete(t.perUser, u)
		}
	}
}

// sweepLocked forgets calls older than maxCallAge, at most once a minute.
func (t *callTable) sweepLocked() {
	now := t.now()
	if now.Sub(t.lastSweep) < time.Minute {
		return
	}
	t.lastSweep = now
	for _, c := range t.byID {
		if now.Sub(c.at) > maxCallAge {
			t.removeLocked(c)
		}
	}
}

// Len is the number of calls in progress.
func (t *callTable) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// CallsInProgress is how many calls the proxy holds now (set up, ringing or answered).
func (s *Server) CallsInProgress() int {
	if s.proxy == nil {
		return 0
	}
	return s.proxy.calls.Len()
}

// event tells the observer, inline (it must not block: CallObserver).
func (s *Server) event(c *call, kind CallEventKind, phones []string, code int) {
	if s.cfg.Calls == nil || c == nil {
		return
	}
	s.cfg.Calls.CallEvent(CallEvent{Kind: kind, At: s.now(), Tenant: c.tenant, CallID: c.id,
		Caller: c.caller, From: c.from, To: c.to, Route: c.route, Phones: phones, Code: code})
}

func (s *Server) callStarted(c *call) { s.event(c, CallStarted, nil, 0) }

func (s *Server) callRinging(c *call, phone string) {
	if c == nil {
		return
	}
	s.event(c, CallRinging, phoneList(phone), 0)
}

func (s *Server) callAnswered(c *call, phone string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	first := !c.answered && !c.ended
	c.answered = true
	c.mu.Unlock()
	if first {
		s.event(c, CallAnswered, phoneList(phone), 0)
	}
}

// callEnded ends a call once: a final non-2xx answer, or its BYE (code 200 then).
func (s *Server) callEnded(c *call, code int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	c.mu.Unlock()
	s.proxy.calls.end(c)
	s.event(c, CallEnded, nil, code)
}

func phoneList(p string) []string {
	if p == "" {
		return nil
	}
	return []string{p}
}
