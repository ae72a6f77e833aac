package sip

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dialtone/dialtone/store"
)

// Binding is one registered contact (RFC 3261 §10.3), as listed by the admin API.
type Binding = store.Binding

// aor is the set of bindings of one address of record. Its mutex orders the REGISTERs of
// the AOR and makes each all-or-nothing (RFC 3261 §10.3: "MUST be processed atomically").
type aor struct {
	mu       sync.Mutex
	bindings []*Binding
	dead     bool // removed from the table by sweep: look it up again
	// storedUntil: every binding last handed to the store is valid until then (the
	// earliest expiry among them); refreshes that it covers skip the store.
	storedUntil time.Time
	// recent holds the transaction keys of the last REGISTERs accepted over UDP, so a
	// late retransmission is answered, not challenged (retransmit.go).
	recent [recentAccepted]acceptedTx
}

// recentAccepted is how many accepted REGISTERs an AOR remembers: a phone sends a
// handful within Timer F (32 s); a benchmark re-registering one AOR every few seconds
// needs about ten.
const recentAccepted = 12

type acceptedTx struct {
	key uint64
	at  int64 // unix nanoseconds
}

// remember records an accepted REGISTER's transaction key (caller holds a.mu); the
// oldest entry makes room.
func (a *aor) remember(key uint64, now time.Time) {
	oldest := 0
	for i := range a.recent {
		if a.recent[i].key == key {
			oldest = i
			break
		}
		if a.recent[i].at < a.recent[oldest].at {
			oldest = i
		}
	}
	a.recent[oldest] = acceptedTx{key: key, at: now.UnixNano()}
}

// acceptedWithin reports whether a REGISTER with key was accepted within challengeTTL
// (caller holds a.mu); with key 0, whether any was.
func (a *aor) acceptedWithin(key uint64, now time.Time) bool {
	for _, r := range a.recent {
		if r.at != 0 && (key == 0 || r.key == key) && now.UnixNano()-r.at < int64(challengeTTL) {
			return true
		}
	}
	return false
}

// acceptedRecently reports whether the AOR accepted a REGISTER with key lately.
func (t *Bindings) acceptedRecently(tenant, user string, key uint64, now time.Time) bool {
	a := t.get(tenant, user, false)
	if a == nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acceptedWithin(key, now)
}

// tenantBindings holds the AORs of one tenant.
type tenantBindings struct {
	mu   sync.RWMutex
	aors map[string]*aor
}

// list copies the tenant's AORs out under its read lock, so a caller can lock each in
// turn without holding the tenant's.
func (tb *tenantBindings) list() []*aor {
	tb.mu.RLock()
	defer tb.mu.RUnlock()
	aors := make([]*aor, 0, len(tb.aors))
	for _, a := range tb.aors {
		aors = append(aors, a)
	}
	return aors
}

// Bindings is the in-memory binding table, persisted behind by a flusher.
type Bindings struct {
	mu      sync.RWMutex
	tenants map[string]*tenantBindings

	dirtyMu sync.Mutex
	dirty   map[[2]string]struct{} // tenant, aor
	kick    chan struct{}

	st  *store.Store
	log *slog.Logger
	now func() time.Time
}

func newBindings(st *store.Store, log *slog.Logger, now func() time.Time) *Bindings {
	return &Bindings{
		tenants: make(map[string]*tenantBindings), dirty: make(map[[2]string]struct{}),
		kick: make(chan struct{}, 1), st: st, log: log, now: now,
	}
}

// get returns the AOR entry, creating it when create is set.
func (t *Bindings) get(tenant, user string, create bool) *aor {
	t.mu.RLock()
	tb := t.tenants[tenant]
	t.mu.RUnlock()
	if tb == nil {
		if !create {
			return nil
		}
		t.mu.Lock()
		if tb = t.tenants[tenant]; tb == nil {
			tb = &tenantBindings{aors: make(map[string]*aor)}
			t.tenants[tenant] = tb
		}
		t.mu.Unlock()
	}
	tb.mu.RLock()
	a := tb.aors[user]
	tb.mu.RUnlock()
	if a == nil && create {
		tb.mu.Lock()
		if a = tb.aors[user]; a == nil {
			a = &aor{}
			tb.aors[user] = a
		}
		tb.mu.Unlock()
	}
	return a
}

// markDirty queues an AOR for persisting.
func (t *Bindings) markDirty(tenant, user string) {
	t.dirtyMu.Lock()
	t.dirty[[2]string{tenant, user}] = struct{}{}
	t.dirtyMu.Unlock()
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// live returns the unexpired bindings of a (caller holds a.mu). The result may share
// a.bindings' array (capped: appending copies); nobody changes it in place.
func (a *aor) live(now time.Time) []*Binding {
	all := true
	for _, b := range a.bindings {
		if !b.Expires.After(now) {
			all = false
			break
		}
	}
	if all {
		return a.bindings[:len(a.bindings):len(a.bindings)]
	}
	out := a.bindings[:0:0]
	for _, b := range a.bindings {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	return out
}

// Registrations lists the live bindings of a tenant, by AOR then contact.
func (t *Bindings) Registrations(tenant string) []Binding {
	t.mu.RLock()
	tb := t.tenants[tenant]
	t.mu.RUnlock()
	if tb == nil {
		return []Binding{}
	}
	now := t.now()
	aors := tb.list()
	out := []Binding{}
	for _, a := range aors {
		a.mu.Lock()
		for _, b := range a.bindings {
			if b.Expires.After(now) {
				out = append(out, *b)
			}
		}
		a.mu.Unlock()
	}
	slices.SortFunc(out, func(x, y Binding) int {
		if x.AOR != y.AOR {
			return compareStrings(x.AOR, y.AOR)
		}
		return compareStrings(x.Contact, y.Contact)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// each calls fn for every live binding of a tenant ("" = all tenants).
func (t *Bindings) each(tenant string, fn func(Binding)) {
	t.mu.RLock()
	tbs := make([]*tenantBindings, 0, len(t.tenants))
	for slug, tb := range t.tenants {
		if tenant == "" || slug == tenant {
			tbs = append(tbs, tb)
		}
	}
	t.mu.RUnlock()
	now := t.now()
	for _, tb := range tbs {
		aors := tb.list()
		for _, a := range aors {
			a.mu.Lock()
			bs := a.live(now)
			a.mu.Unlock()
			for _, b := range bs {
				fn(*b)
			}
		}
	}
}

// removeWhere drops the bindings of a tenant for which match is true (an extension or
// user was deleted) and persists the change.
func (t *Bindings) removeWhere(tenant string, match func(*Binding) bool) int {
	t.mu.RLock()
	tb := t.tenants[tenant]
	t.mu.RUnlock()
	if tb == nil {
		return 0
	}
	tb.mu.RLock()
	keys := make([]string, 0, len(tb.aors))
	for k := range tb.aors {
		keys = append(keys, k)
	}
	tb.mu.RUnlock()
	removed := 0
	for _, k := range keys {
		a := t.get(tenant, k, false)
		if a == nil {
			continue
		}
		a.mu.Lock()
		kept := a.bindings[:0:0]
		for _, b := range a.bindings {
			if match(b) {
				removed++
			} else {
				kept = append(kept, b)
			}
		}
		changed := len(kept) != len(a.bindings)
		a.bindings = kept
		a.mu.Unlock()
		if changed {
			t.markDirty(tenant, k)
		}
	}
	return removed
}

// load fills the table from the store at start-up.
func (t *Bindings) load() (int, error) {
	if t.st == nil {
		return 0, nil
	}
	tenants, err := t.st.Tenants()
	if err != nil {
		return 0, err
	}
	now, n := t.now(), 0
	for _, ten := range tenants {
		err := t.st.EachBindings(ten.Slug, func(set store.AORBindings) bool {
			a := t.get(set.Tenant, set.AOR, true)
			a.mu.Lock()
			for i := range set.Bindings {
				if set.Bindings[i].Expires.After(now) {
					b := set.Bindings[i]
					a.bindings = append(a.bindings, &b)
					n++
				}
			}
			a.storedUntil = earliestExpiry(a.bindings)
			a.mu.Unlock()
			return true
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// flushLoop persists dirty AORs, coalescing bursts (a REGISTER never waits for disk),
// and drops expired bindings from memory now and then.
func (t *Bindings) flushLoop(ctx context.Context) {
	sweep := time.NewTicker(30 * time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			t.flush() // drain
			return
		case <-t.kick:
			time.Sleep(50 * time.Millisecond) // gather a batch
			t.flush()
		case <-sweep.C:
			t.sweep()
		}
	}
}

func (t *Bindings) flush() {
	t.dirtyMu.Lock()
	if len(t.dirty) == 0 {
		t.dirtyMu.Unlock()
		return
	}
	keys := t.dirty
	t.dirty = make(map[[2]string]struct{}, len(keys))
	t.dirtyMu.Unlock()
	if t.st == nil {
		return
	}
	now := t.now()
	sets := make([]store.AORBindings, 0, len(keys))
	for k := range keys {
		set := store.AORBindings{Tenant: k[0], AOR: k[1]}
		if a := t.get(k[0], k[1], false); a != nil {
			a.mu.Lock()
			for _, b := range a.live(now) {
				set.Bindings = append(set.Bindings, *b)
			}
			a.mu.Unlock()
		}
		sets = append(sets, set)
	}
	if err := t.st.SaveBindings(sets); err != nil {
		t.log.Error("persisting bindings", "aors", len(sets), "err", err)
	}
}

// sweep forgets expired bindings and empty AORs (their store entries expire by TTL).
func (t *Bindings) sweep() {
	now := t.now()
	t.mu.RLock()
	tbs := make([]*tenantBindings, 0, len(t.tenants))
	for _, tb := range t.tenants {
		tbs = append(tbs, tb)
	}
	t.mu.RUnlock()
	for _, tb := range tbs {
		tb.mu.Lock()
		for k, a := range tb.aors {
			a.mu.Lock()
			a.bindings = a.live(now)
			// An AOR that accepted a REGISTER lately stays (with no bindings after an
			// unregister) until the retransmissions of that REGISTER are over.
			empty := len(a.bindings) == 0 && !a.acceptedWithin(0, now)
			if empty {
				a.dead = true
				delete(tb.aors, k)
			}
			a.mu.Unlock()
		}
		tb.mu.Unlock()
	}
}

// Count is a tenant's live registrations: AORs with at least one live binding, and
// the bindings (contacts) they hold.
type Count struct{ AORs, Bindings int }

// Counts reads the live registrations of every tenant from the table (locks taken as
// each takes them: never an AOR's while a table's is held).
func (t *Bindings) Counts() map[string]Count {
	t.mu.RLock()
	tbs := make(map[string]*tenantBindings, len(t.tenants))
	for slug, tb := range t.tenants {
		tbs[slug] = tb
	}
	t.mu.RUnlock()
	now := t.now()
	out := make(map[string]Count, len(tbs))
	for slug, tb := range tbs {
		aors := tb.list()
		var c Count
		for _, a := range aors {
			a.mu.Lock()
			n := 0
			if !a.dead {
				n = len(a.live(now))
			}
			a.mu.Unlock()
			if n > 0 {
				c.AORs++
				c.Bindings += n
			}
		}
		out[slug] = c
	}
	return out
}
