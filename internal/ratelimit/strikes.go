package ratelimit

import (
	"sync"
	"sync/atomic"
	"time"
)

// Policy says how many strikes within Window block a key, and for how long.
type Policy struct {
	Limit   int           // strikes within Window that block the key
	Window  time.Duration // counting window, started by the first strike
	Block   time.Duration // how long a block lasts
	MaxKeys int           // the most keys tracked at once (see the package doc)
	// Name is what the blocks are counted under (BlocksStarted): the service and what it
	// throttles, e.g. "sip-auth". Empty: not counted.
	Name string
}

// Strikes counts failures per key. It is safe for concurrent use.
type Strikes[K comparable] struct {
	p   Policy
	now func() time.Time

	mu        sync.Mutex
	m         map[K]*entry
	lastSweep time.Time
	// anyBlock is the latest end of any block (unix ns; 0 before the first): Blocked
	// answers without the lock while no block can be in force, and without reading the
	// clock while none ever was, so the common case costs one atomic load.
	anyBlock atomic.Int64
	// blocks counts the blocks started under Policy.Name (nil when it is empty).
	blocks *atomic.Uint64
}

type entry struct {
	start time.Time // of the current counting window
	last  time.Time // latest strike
	n     int
	until time.Time // blocked until
	tags  []uint64  // distinct tags seen in this window (StrikeDistinct only)
}

// sampleSize is how many entries a full table looks at to choose one to evict.
const sampleSize = 16

// NewStrikes makes a counter; now may be nil (time.Now).
func NewStrikes[K comparable](p Policy, now func() time.Time) *Strikes[K] {
	if now == nil {
		now = time.Now
	}
	if p.Limit < 1 {
		p.Limit = 1
	}
	if p.MaxKeys < 1 {
		p.MaxKeys = 1
	}
	return &Strikes[K]{p: p, now: now, m: make(map[K]*entry), blocks: blockCounter(p.Name)}
}

// Policy returns the policy the counter was made with.
func (s *Strikes[K]) Policy() Policy { return s.p }

// Blocked reports whether k is blocked now, and until when.
func (s *Strikes[K]) Blocked(k K) (bool, time.Time) {
	latest := s.anyBlock.Load()
	if latest == 0 { // nothing was ever blocked: not even the clock is read
		return false, time.Time{}
	}
	now := s.now()
	if now.UnixNano() >= latest {
		return false, time.Time{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[k]
	if e == nil || !now.Before(e.until) {
		return false, time.Time{}
	}
	return true, e.until
}

// Strike counts one failure for k. It answers true when this strike starts a block (so
// the caller logs or audits a block once, not every failure). Strikes against a key
// that is already blocked do not extend the block.
func (s *Strikes[K]) Strike(k K) bool {
	return s.strike(k, 0, false)
}

// StrikeDistinct counts a strike only for a tag not yet seen in k's current window: a
// scan of many MACs counts, the same MAC asked for again does not. It answers
// (blocked, started): whether k is blocked after this call, and whether this call
// started the block.
func (s *Strikes[K]) StrikeDistinct(k K, tag uint64) (blocked, started bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if e := s.m[k]; e != nil && now.Before(e.until) {
		return true, false
	}
	started = s.strikeLocked(k, tag, true, now)
	return started, started
}

func (s *Strikes[K]) strike(k K, tag uint64, distinct bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.strikeLocked(k, tag, distinct, s.now())
}

func (s *Strikes[K]) strikeLocked(k K, tag uint64, distinct bool, now time.Time) bool {
	e := s.m[k]
	if e == nil {
		if len(s.m) >= s.p.MaxKeys {
			s.makeRoom(now)
		}
		e = &entry{start: now}
		s.m[k] = e
	}
	if now.Before(e.until) {
		return false
	}
	if now.Sub(e.start) >= s.p.Window {
		e.start, e.n, e.tags = now, 0, e.tags[:0]
	}
	e.last = now
	if distinct {
		for _, t := range e.tags {
			if t == tag {
				return false
			}
		}
		e.tags = append(e.tags, tag)
	}
	e.n++
	if e.n < s.p.Limit {
		return false
	}
	e.until = now.Add(s.p.Block)
	e.n, e.tags = 0, nil
	if s.blocks != nil {
		s.blocks.Add(1)
	}
	if u := e.until.UnixNano(); u > s.anyBlock.Load() {
		s.anyBlock.Store(u)
	}
	return true
}

// Clear forgets k: its count and any block (an admin lifted it, or the right secret
// was given).
func (s *Strikes[K]) Clear(k K) {
	s.mu.Lock()
	delete(s.m, k)
	s.mu.Unlock()
}

// Len is how many keys are tracked.
func (s *Strikes[K]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// makeRoom frees at least one slot in a full table (see the package doc).
func (s *Strikes[K]) makeRoom(now time.Time) {
	if now.Sub(s.lastSweep) >= time.Second {
		s.lastSweep = now
		for k, e := range s.m {
			if s.spent(e, now) {
				delete(s.m, k)
			}
		}
		if len(s.m) < s.p.MaxKeys {
			return
		}
	}
	var (
		victim     K
		victimE    *entry
		seen       int
		victimFree bool
	)
	for k, e := range s.m { // map order is random: this is a random sample
		free := !now.Before(e.until)
		if victimE == nil || (free && !victimFree) || (free == victimFree && e.last.Before(victimE.last)) {
			victim, victimE, victimFree = k, e, free
		}
		if seen++; seen >= sampleSize {
			break
		}
	}
	delete(s.m, victim)
}

// spent says an entry neither blocks nor counts anything any more.
func (s *Strikes[K]) spent(e *entry, now time.Time) bool {
	return !now.Before(e.until) && now.Sub(e.start) >= s.p.Window
}

// Attempt takes a strike before an expensive check is made (a password hash), so a
// burst of attempts cannot all pass the limit before the first failure is counted. It
// answers allowed=false when k is blocked (nothing counted), and started when this
// strike began the block (the attempt that brings the block still goes ahead; the next
// one is refused). The caller Clears k on success and Refunds the strike when the check
// was never made.
func (s *Strikes[K]) Attempt(k K) (allowed, started bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if e := s.m[k]; e != nil && now.Before(e.until) {
		return false, false
	}
	return true, s.strikeLocked(k, 0, false, now)
}

// Refund takes back one strike of k's current window (an Attempt whose check was never
// made, because the work was refused as busy). A block already in force stays.
func (s *Strikes[K]) Refund(k K) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[k]; e != nil && e.n > 0 {
		e.n--
	}
}

// blocksByName counts blocks started, by Policy.Name, across every Strikes of the
// process (as internal/crash counts panics): name → *atomic.Uint64.
var blocksByName sync.Map

func blockCounter(name string) *atomic.Uint64 {
	if name == "" {
		return nil
	}
	c, _ := blocksByName.LoadOrStore(name, new(atomic.Uint64))
	return c.(*atomic.Uint64)
}

// BlocksStarted gives the blocks started since the process began, by Policy.Name (0 for
// a name whose Strikes exists but never blocked, so the series exists from the start).
func BlocksStarted() map[string]float64 {
	out := map[string]float64{}
	blocksByName.Range(func(k, v any) bool {
		out[k.(string)] = float64(v.(*atomic.Uint64).Load())
		return true
	})
	return out
}
