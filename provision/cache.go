package provision

import (
	"sync"

	"github.com/dialtone/dialtone/store"
)

// renderCache keeps rendered files by what their bytes depend on besides the store
// (cacheKey), so a phone's repeat fetch is a map lookup and a write. The caller's
// User-Agent is not part of the key: it only helps detect the make and model, and a
// flood of made-up User-Agents meets the entries of the makes and models they name.
//
// The cache holds at most maxBytes (bodies plus a fixed cost per entry), dropping the
// least recently used entries to make room; a file larger than that is served but not
// kept. Entries are indexed by tenant, phone and user, and dropped on the store's
// change events. A render that started before a drop is not stored (generation
// check), so a change always shows in the next fetch.
type renderCache struct {
	mu       sync.Mutex
	gen      uint64
	maxBytes int64
	bytes    int64
	m        map[cacheKey]*cacheEntry
	lru      cacheEntry // sentinel of the recency ring: lru.next is the most recent
	byTenant map[string]keySet
	byPhone  map[string]keySet
	byUser   map[string]keySet // tenant/user
	// phones holds the phone records detection read, so a repeat fetch costs no
	// store read; only phones the store knows are kept (unknown MACs go through
	// the scan throttle), and a phone's change drops its record.
	phones map[string]*store.Phone
	// hits and misses count get's answers (Stats), under mu like the rest.
	hits, misses uint64
}

// maxPhones bounds the phone records kept: far more than one server's phones.
const maxPhones = 1 << 17

// cacheKey is what a rendered file depends on besides the store: the tenant, the
// path asked for below the token, the detected make and model, and for Yealink's
// y000000000000.boot the phone's MAC from its User-Agent (the boot file names the
// phone's own file). The model is one the phone record, the file name or the
// catalogue gives, never free text from a User-Agent.
type cacheKey struct {
	tenant, file string
	make         Make
	model        string
	bootMAC      string
}

type keySet = map[cacheKey]struct{}

// cacheEntry is one rendered file and what the fetch log needs to know of it.
type cacheEntry struct {
	key         cacheKey
	body        []byte
	contentType string
	tenant      string
	mac         string // the known phone it was rendered for, "" for common files
	user        string
	make        Make
	model       string
	file        string // the request's path below the token

	prev, next *cacheEntry // recency ring, under renderCache.mu

	hits hitCount // fetches served from this entry since the fetch log's last flush
}

// DefaultRenderCacheBytes is the render cache's size when Config.RenderCacheBytes
// is 0.
const DefaultRenderCacheBytes = 64 << 20

// entryOverhead is what an entry costs beyond its body: the map slot, the indexes
// and the entry itself, rounded up.
const entryOverhead = 512

func newRenderCache(maxBytes int64) *renderCache {
	if maxBytes <= 0 {
		maxBytes = DefaultRenderCacheBytes
	}
	c := &renderCache{maxBytes: maxBytes}
	c.reset()
	return c
}

func (c *renderCache) reset() {
	c.m = map[cacheKey]*cacheEntry{}
	c.byTenant = map[string]keySet{}
	c.byPhone = map[string]keySet{}
	c.byUser = map[string]keySet{}
	c.phones = map[string]*store.Phone{}
	c.lru.prev, c.lru.next = &c.lru, &c.lru
	c.bytes = 0
}

func (e *cacheEntry) size() int64 {
	return int64(len(e.body)+len(e.key.tenant)+len(e.key.file)+len(e.key.model)+len(e.key.bootMAC)) + entryOverhead
}

func (c *renderCache) get(key cacheKey) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[key]
	if e == nil {
		c.misses++
	} else {
		c.hits++
	}
	if e != nil && c.lru.next != e {
		c.unlink(e)
		c.pushFront(e)
	}
	return e
}

func (c *renderCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores e under e.key unless something was dropped since gen was read, making
// room by dropping the least recently used entries.
func (c *renderCache) put(e *cacheEntry, gen uint64) {
	size := e.size()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || size > c.maxBytes {
		return
	}
	if old := c.m[e.key]; old != nil {
		c.remove(old)
	}
	for c.bytes+size > c.maxBytes && c.lru.prev != &c.lru {
		c.remove(c.lru.prev)
	}
	c.m[e.key] = e
	c.bytes += size
	c.pushFront(e)
	index(c.byTenant, e.tenant, e.key)
	if e.mac != "" {
		index(c.byPhone, e.mac, e.key)
	}
	if e.user != "" {
		index(c.byUser, e.tenant+"/"+e.user, e.key)
	}
}

func (c *renderCache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}

func (c *renderCache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// remove takes e out of the map, the ring and the indexes.
func (c *renderCache) remove(e *cacheEntry) {
	delete(c.m, e.key)
	c.unlink(e)
	c.bytes -= e.size()
	deleteIndexed(c.byTenant, e.tenant, e.key)
	deleteIndexed(c.byPhone, e.mac, e.key)
	deleteIndexed(c.byUser, e.tenant+"/"+e.user, e.key)
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
		if e := c.m[key]; e != nil {
			c.remove(e)
		}
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
	delete(c.phones, mac)
	c.mu.Unlock()
}

// phone is the kept record of a known phone, nil when none is kept. The record is
// shared: callers read it, never change it.
func (c *renderCache) phone(mac string) *store.Phone {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.phones[mac]
}

// putPhone keeps ph unless something was dropped since gen was read.
func (c *renderCache) putPhone(ph *store.Phone, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.phones) >= maxPhones {
		c.phones = map[string]*store.Phone{}
	}
	c.phones[ph.MAC] = ph
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
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// size is the bytes the cache holds, counted as put counts them.
func (c *renderCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
