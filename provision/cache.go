package provision

import "sync"

// renderCache keeps rendered files by request (tenant, path, User-Agent), so a
// phone's repeat fetch is a map lookup and a write. Entries are indexed by
// tenant, phone and user, and dropped on the store's change events. A render
// that started before a drop is not stored (generation check), so a change
// always shows in the next fetch.
type renderCache struct {
	mu       sync.RWMutex
	gen      uint64
	m        map[cacheKey]*cacheEntry
	byTenant map[string]keySet
	byPhone  map[string]keySet
	byUser   map[string]keySet // tenant/user
}

// cacheKey is what a rendered file depends on besides the store: the tenant, the
// path asked for below the token, and the User-Agent (make, model, firmware).
type cacheKey struct{ tenant, file, ua string }

type keySet = map[cacheKey]struct{}

// cacheEntry is one rendered file and what the fetch log needs to know of it.
type cacheEntry struct {
	body        []byte
	contentType string
	tenant      string
	mac         string // the known phone it was rendered for, "" for common files
	secrets     bool   // the phone's own file: every hit passes authorizePhone
	user        string
	make        Make
	model       string
	firmware    string // from the User-Agent
	file, ua    string // the request's path below the token and User-Agent

	hits hitCount // fetches served from this entry since the fetch log's last flush
}

const maxCacheEntries = 200000

func newRenderCache() *renderCache {
	c := &renderCache{}
	c.reset()
	return c
}

func (c *renderCache) reset() {
	c.m = map[cacheKey]*cacheEntry{}
	c.byTenant = map[string]keySet{}
	c.byPhone = map[string]keySet{}
	c.byUser = map[string]keySet{}
}

func (c *renderCache) get(key cacheKey) *cacheEntry {
	c.mu.RLock()
	e := c.m[key]
	c.mu.RUnlock()
	return e
}

func (c *renderCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put stores e, under its tenant, file and User-Agent, unless something was
// dropped since gen was read.
func (c *renderCache) put(e *cacheEntry, gen uint64) {
	key := cacheKey{e.tenant, e.file, e.ua}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= maxCacheEntries {
		c.reset()
	}
	c.m[key] = e
	index(c.byTenant, e.tenant, key)
	if e.mac != "" {
		index(c.byPhone, e.mac, key)
	}
	if e.user != "" {
		index(c.byUser, e.tenant+"/"+e.user, key)
	}
}

func index(m map[string]keySet, k string, key cacheKey) {
	s := m[k]
	if s == nil {
		s = keySet{}
		m[k] = s
	}
	s[key] = struct{}{}
}

func (c *renderCache) drop(set keySet) {
	for key := range set {
		e := c.m[key]
		if e == nil {
			continue
		}
		delete(c.m, key)
		deleteIndexed(c.byTenant, e.tenant, key)
		deleteIndexed(c.byPhone, e.mac, key)
		deleteIndexed(c.byUser, e.tenant+"/"+e.user, key)
	}
}

func deleteIndexed(m map[string]keySet, k string, key cacheKey) {
	if s := m[k]; s != nil {
		delete(s, key)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

func (c *renderCache) dropTenant(slug string) {
	c.mu.Lock()
	c.gen++
	c.drop(c.byTenant[slug])
	c.mu.Unlock()
}

func (c *renderCache) dropPhone(mac string) {
	c.mu.Lock()
	c.gen++
	c.drop(c.byPhone[mac])
	c.mu.Unlock()
}

func (c *renderCache) dropUser(slug, user string) {
	c.mu.Lock()
	c.gen++
	c.drop(c.byUser[slug+"/"+user])
	c.mu.Unlock()
}

func (c *renderCache) dropAll() {
	c.mu.Lock()
	c.gen++
	c.reset()
	c.mu.Unlock()
}

func (c *renderCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
