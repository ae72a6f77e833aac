package ratelimit

import (
	"net/netip"
	"sync"
)

// Conns caps how many connections one source (see Source) holds open at once.
type Conns struct {
	max int
	mu  sync.Mutex
	m   map[netip.Addr]int
}

// NewConns allows max connections per source; max < 1 means no cap.
func NewConns(max int) *Conns {
	return &Conns{max: max, m: make(map[netip.Addr]int)}
}

// Acquire takes a slot for addr's source; false means it holds max already and the
// connection should be closed. Every true is paired with one Release.
func (c *Conns) Acquire(addr netip.Addr) bool {
	if c == nil || c.max < 1 {
		return true
	}
	k := Source(addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[k] >= c.max {
		return false
	}
	c.m[k]++
	return true
}

// Release gives back a slot taken by Acquire.
func (c *Conns) Release(addr netip.Addr) {
	if c == nil || c.max < 1 {
		return
	}
	k := Source(addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.m[k]; n > 1 {
		c.m[k] = n - 1
	} else {
		delete(c.m, k)
	}
}

// Open is how many connections addr's source holds.
func (c *Conns) Open(addr netip.Addr) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[Source(addr)]
}
